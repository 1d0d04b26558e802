import Evaluation

extension ColorScale {
    /// The rules the server's `color_scale` query parameter takes: it colours one image at a time, so `per-class`
    /// (which needs the class's other images) is refused.
    static let servable: [ColorScale] = [.fixed, .perImage]
}
