/// Image-level AUROC, AP and F1-max from one sort of the scores.
public struct ImageMetrics: Sendable, Equatable {
    public var auroc: Double
    public var averagePrecision: Double
    public var f1Max: Double

    /// All three image-level metrics; throws `MetricError.missingClass` unless both classes occur.
    public static func compute(scores: [Float], labels: [Bool]) throws -> ImageMetrics {
        let groups = try ScoreGroups(scores: scores, labels: labels, what: "image metrics")
        try AUROC.requireBothClasses("AUROC", positives: groups.positives, negatives: groups.negatives)
        let s = groups.sweep()
        return ImageMetrics(auroc: s.auroc, averagePrecision: s.averagePrecision, f1Max: s.f1Max)
    }
}
