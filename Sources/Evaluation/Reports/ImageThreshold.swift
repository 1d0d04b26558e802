/// The image-score threshold a report marks and labels images with: the calibrated one when the detector has
/// thresholds (anomalous = score above it, as `Detector.predict` labels), else the class's image F1-max threshold
/// (anomalous = score at or above it, the sweep's rule).
public struct ImageThreshold: Sendable, Equatable {
    public enum Source: String, Sendable { case calibrated, f1Max = "f1-max" }
    public var value: Float
    public var source: Source

    public init(value: Float, source: Source) {
        self.value = value
        self.source = source
    }

    public func isAnomalous(_ score: Float) -> Bool {
        source == .calibrated ? score > value : score >= value
    }
}
