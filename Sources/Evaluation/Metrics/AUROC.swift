/// Area under the ROC curve: the Mann-Whitney statistic with ties counted half
/// (equal to `sklearn.metrics.roc_auc_score`). Needs both classes, like sklearn.
public enum AUROC {
    /// AUROC of image-level `scores` against `labels` (true = anomalous).
    public static func compute(scores: [Float], labels: [Bool]) throws -> Double {
        let groups = try ScoreGroups(scores: scores, labels: labels, what: "AUROC")
        try requireBothClasses("AUROC", positives: groups.positives, negatives: groups.negatives)
        return groups.sweep().auroc
    }

    static func requireBothClasses(_ metric: String, positives: Int, negatives: Int) throws {
        guard positives > 0, negatives > 0 else {
            throw MetricError.missingClass(metric: metric, positives: positives, negatives: negatives)
        }
    }
}
