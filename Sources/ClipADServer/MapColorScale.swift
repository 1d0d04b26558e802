/// How an inspected map's values become colours (`color_scale` query parameter of `/v1/models/NAME/inspect`).
/// The names follow the evaluation reports' colour scales; a server colours one image at a time, so there is no
/// per-class scale here (it needs the class's other images).
enum MapColorScale: String, CaseIterable, Sendable {
    /// The range a map value can take by the method's definition: the same colour means the same value everywhere.
    case fixed
    /// This map's own minimum to maximum: the most contrast, colours not comparable across images.
    case perImage = "per-image"

    func range(of map: [Float], natural: ClosedRange<Float>) -> ClosedRange<Float> {
        switch self {
        case .fixed: return natural
        case .perImage:
            guard let lo = map.min(), let hi = map.max() else { return natural }
            return lo...(hi > lo ? hi : lo + 1e-6)
        }
    }
}
