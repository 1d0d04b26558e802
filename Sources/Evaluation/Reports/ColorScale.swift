/// Which values the heat-map colours span, one rule for every picture ClipAD draws (predict and eval overlays,
/// the demo, the server page), chosen with `--color-scale`:
/// - `fixed`: the method's natural map range (`Detector.naturalMapRange`: WinCLIP [0, 1], PromptAD [0, 0.5],
///   AnomalyCLIP [0, number of layers], the sum of one [0, 1] probability per layer): maps compare across images,
///   classes and runs, but a method whose maps sit in a narrow band looks flat;
/// - `per-image`: the image's own min..max: every map shows its structure, so a normal image looks as "hot" as a
///   defective one;
/// - `per-class`: min..max over all maps of the class (eval's default): images of one class compare.
public enum ColorScale: String, CaseIterable, Sendable, Codable {
    case fixed
    case perImage = "per-image"
    case perClass = "per-class"

    /// eval and demo colour a class together.
    public static let evaluationDefault = ColorScale.perClass
    /// predict scores images one at a time, with no class to span.
    public static let predictionDefault = ColorScale.perImage

    /// Upper-case name the colour bar shows.
    public var barName: String { rawValue.uppercased() }

    /// The colour range for one map: `natural` for `fixed`, the map's span for `per-image`, `classRange` for
    /// `per-class`. A range without `natural` or `classRange` falls back to the map's span.
    public func range(of map: [Float], classRange: ClosedRange<Float>? = nil,
                      natural: ClosedRange<Float>? = nil) -> ClosedRange<Float> {
        switch self {
        case .fixed: return natural ?? Self.span(map)
        case .perImage: return Self.span(map)
        case .perClass: return classRange ?? Self.span(map)
        }
    }

    /// min...max of the finite values ([0, 1] when there are none).
    public static func span(_ values: [Float]) -> ClosedRange<Float> {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values where v.isFinite {
            if v < lo { lo = v }
            if v > hi { hi = v }
        }
        return lo <= hi ? lo...hi : 0...1
    }

    /// min...max over several maps.
    public static func span(_ maps: [[Float]]) -> ClosedRange<Float> {
        let spans = maps.filter { $0.contains(where: \.isFinite) }.map { span($0) }
        guard let lo = spans.map(\.lowerBound).min(), let hi = spans.map(\.upperBound).max() else { return 0...1 }
        return lo...hi
    }
}
