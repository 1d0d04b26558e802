/// Average precision exactly as `sklearn.metrics.average_precision_score`: sum over distinct thresholds
/// (highest first) of (recall increase) x precision, no interpolation. Needs at least one positive
/// (with no negatives it is 1, as in sklearn).
public enum AveragePrecision {
    /// AP of image-level `scores` against `labels` (true = anomalous).
    public static func compute(scores: [Float], labels: [Bool]) throws -> Double {
        let groups = try ScoreGroups(scores: scores, labels: labels, what: "AP")
        try requirePositives("AP", positives: groups.positives, negatives: groups.negatives)
        return groups.sweep().averagePrecision
    }

    static func requirePositives(_ metric: String, positives: Int, negatives: Int) throws {
        guard positives > 0 else {
            throw MetricError.missingClass(metric: metric, positives: positives, negatives: negatives)
        }
    }
}
