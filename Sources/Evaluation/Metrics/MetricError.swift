/// Why a metric could not be computed: mismatched inputs, unusable scores, or a degenerate label set.
public enum MetricError: Error, CustomStringConvertible, Equatable {
    /// `scores` and `labels` (or a map and its mask) differ in length.
    case countMismatch(what: String, scores: Int, labels: Int)
    /// There is nothing to evaluate.
    case empty(what: String)
    /// A score is NaN or infinite (no order is defined for it).
    case nonFiniteScore(what: String, index: Int, value: Float)
    /// A map's width x height does not match its score count, or a size is not positive.
    case badMapSize(index: Int, width: Int, height: Int, scores: Int)
    /// The metric needs both classes (AUROC) or at least one positive (AP, F1-max).
    case missingClass(metric: String, positives: Int, negatives: Int)
    /// AUPRO needs at least one defect region and one anomaly-free pixel.
    case noDefectRegions
    case noNormalPixels
    /// The PRO curve is degenerate (AnomalyCLIP mode: constant maps, fewer than two points below the FPR limit).
    case degenerateCurve(String)
    /// An option is out of range.
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .countMismatch(what, scores, labels):
            return "\(what): \(scores) scores but \(labels) labels"
        case let .empty(what):
            return "\(what): no samples to evaluate"
        case let .nonFiniteScore(what, index, value):
            return "\(what): score \(index) is \(value); scores must be finite"
        case let .badMapSize(index, width, height, scores):
            return "map \(index): size \(width)x\(height) does not hold its \(scores) scores"
        case let .missingClass(metric, positives, negatives):
            return "\(metric) is undefined with \(positives) anomalous and \(negatives) normal samples"
                + " (needs \(metric == "AUROC" ? "both classes" : "at least one anomalous sample"))"
        case .noDefectRegions:
            return "AUPRO is undefined: no ground-truth mask has a defect pixel"
        case .noNormalPixels:
            return "AUPRO is undefined: every ground-truth pixel is a defect"
        case let .degenerateCurve(why):
            return "PRO curve is degenerate: \(why)"
        case let .invalidOption(why):
            return "invalid metric option: \(why)"
        }
    }
}
