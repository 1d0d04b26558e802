/// Running AUROC / AP / F1-max state while thresholds are lowered through the distinct scores, highest first.
///
/// At each distinct score s, the samples scoring >= s are predicted anomalous (sklearn's `roc_curve` and
/// `precision_recall_curve` semantics). Counts are integers, so AUROC is exact:
/// 2U = sum over groups of (2 * positives above * negatives in group + positives in group * negatives in group).
struct ThresholdSweep {
    let positives: Int
    let negatives: Int
    private(set) var truePositives: Int
    private(set) var falsePositives: Int
    /// Twice the Mann-Whitney U statistic (ties count half).
    private(set) var pairsTwice = 0
    /// Sum over thresholds of (new true positives) x precision; AP = this / positives.
    private(set) var precisionSum = 0.0
    private(set) var f1Max = 0.0

    init(positives: Int, negatives: Int, truePositivesAbove: Int = 0, falsePositivesAbove: Int = 0) {
        self.positives = positives
        self.negatives = negatives
        truePositives = truePositivesAbove
        falsePositives = falsePositivesAbove
    }

    /// Adds one group of tied scores (the next lower distinct threshold).
    @inline(__always)
    mutating func add(positives p: Int, negatives n: Int) {
        pairsTwice &+= 2 &* truePositives &* n &+ p &* n
        truePositives += p
        falsePositives += n
        guard p > 0 else { return }  // precision is only summed where recall steps up; F1 only rises there
        let tp = Double(truePositives)
        precisionSum += Double(p) * (tp / (tp + Double(falsePositives)))
        // F1 = 2PR/(P+R) = 2 tp / (positives + tp + fp); tp > 0 here so it is never 0/0.
        let f1 = 2 * tp / (Double(positives) + tp + Double(falsePositives))
        if f1 > f1Max { f1Max = f1 }
    }

    var auroc: Double { Double(pairsTwice) / (2 * Double(positives) * Double(negatives)) }
    var averagePrecision: Double { precisionSum / Double(positives) }
}
