import Tensor

/// A score or map value that is NaN or infinite: the model produced garbage for this image (bad weights,
/// overflow), and writing it would poison every metric computed from the outputs.
public struct NonFiniteValueError: Error, CustomStringConvertible, Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        a.image == b.image && a.what == b.what && a.index == b.index && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }

    public let image: String
    /// "score", or "map" for an anomaly map.
    public let what: String
    public let value: Float
    /// Flat index of the first bad value in a map (nil for a score).
    public let index: Int?

    public var description: String {
        let at = index.map { " at element \($0)" } ?? ""
        return "\(image): anomaly \(what) is \(value)\(at), expected a finite number (model weights or input produce NaN/Inf)"
    }
}

/// The checks the CLI and writers run on a method's output before it is written.
public enum NonFiniteValues {
    /// Throws unless `score` is finite.
    public static func check(score: Float, image: String) throws {
        guard score.isFinite else { throw NonFiniteValueError(image: image, what: "score", value: score, index: nil) }
    }

    /// Throws unless every element of `map` is finite.
    public static func check(map: UnsafeBufferPointer<Float>, image: String) throws {
        if let i = map.firstIndex(where: { !$0.isFinite }) {
            throw NonFiniteValueError(image: image, what: "map", value: map[i], index: i)
        }
    }

    public static func check(map: [Float], image: String) throws {
        try map.withUnsafeBufferPointer { try check(map: $0, image: image) }
    }

    public static func check(map: Tensor, image: String) throws {
        try map.withData { try check(map: $0, image: image) }
    }

    /// Throws unless `score` and every element of `map` are finite.
    public static func check(score: Float, map: Tensor?, image: String) throws {
        try check(score: score, image: image)
        if let map { try check(map: map, image: image) }
    }
}
