/// Best F1 over thresholds: max of 2PR/(P+R) over sklearn's `precision_recall_curve` points
/// (one per distinct score; 0 where P+R = 0). Needs at least one positive.
public enum F1Max {
    /// F1-max of image-level `scores` against `labels` (true = anomalous).
    public static func compute(scores: [Float], labels: [Bool]) throws -> Double {
        let groups = try ScoreGroups(scores: scores, labels: labels, what: "F1-max")
        try AveragePrecision.requirePositives("F1-max", positives: groups.positives, negatives: groups.negatives)
        return groups.sweep().f1Max
    }
}
