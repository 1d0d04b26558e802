/// One anomaly map and its ground-truth mask, both row-major `width x height`.
public struct PixelSample: Sendable {
    public let width: Int
    public let height: Int
    /// Anomaly score per pixel (higher = more anomalous); must be finite.
    public let scores: [Float]
    /// Ground truth per pixel, nonzero = defect; nil = an anomaly-free image (all zero).
    public let mask: [UInt8]?

    /// Checks that the map and mask both hold `width * height` values.
    public init(width: Int, height: Int, scores: [Float], mask: [UInt8]?) throws {
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, area == scores.count else {
            throw MetricError.badMapSize(index: 0, width: width, height: height, scores: scores.count)
        }
        if let mask, mask.count != area {
            throw MetricError.countMismatch(what: "map \(width)x\(height)", scores: area, labels: mask.count)
        }
        self.width = width
        self.height = height
        self.scores = scores
        self.mask = mask
    }

    /// Whether any mask pixel is a defect.
    public var hasDefect: Bool { mask?.contains { $0 != 0 } ?? false }
}
