/// The ROC and precision-recall curves a report draws, as the metric code sweeps them: thresholds lowered
/// through the scores, highest first, everything at or above a threshold predicted anomalous (sklearn's
/// `roc_curve` / `precision_recall_curve` semantics, `ThresholdSweep`'s rule).
/// Image level: one point per distinct score (`ScoreGroups`, the groups AUROC and AP are summed over), so the
/// trapezoid area under `roc` is the AUROC and sum(Δrecall · precision) over `precisionRecall` is the AP.
/// Pixel level: one point per non-empty bucket of `PixelSweep` (top 16 bits of the score key) at the bucket's lower
/// edge; those points lie exactly on the pixel curve (at most 65,536 of its vertices).
public struct ScoreCurve: Sendable, Equatable {
    public let positives: Int
    public let negatives: Int
    /// Thresholds, highest first, and how many anomalous / normal samples score at or above each.
    public let thresholds: [Float]
    public let truePositives: [Int]
    public let falsePositives: [Int]

    public init(positives: Int, negatives: Int, thresholds: [Float], truePositives: [Int], falsePositives: [Int]) {
        self.positives = positives
        self.negatives = negatives
        self.thresholds = thresholds
        self.truePositives = truePositives
        self.falsePositives = falsePositives
    }

    /// The image-level curve (one point per distinct score); throws like AUROC on bad or one-class input.
    public static func image(scores: [Float], labels: [Bool]) throws -> ScoreCurve {
        let groups = try ScoreGroups(scores: scores, labels: labels, what: "ROC curve")
        try AUROC.requireBothClasses("ROC curve", positives: groups.positives, negatives: groups.negatives)
        // ScoreGroups orders distinct score keys from high to low; the same keys, sorted, name the thresholds.
        let keys = Set(scores.map(scoreKey)).sorted(by: >)
        var tp = 0, fp = 0, tps: [Int] = [], fps: [Int] = []
        for g in groups.groups {
            tp += g.positives; fp += g.negatives
            tps.append(tp); fps.append(fp)
        }
        return ScoreCurve(positives: groups.positives, negatives: groups.negatives,
                          thresholds: keys.map(PixelThreshold.floatFromKey), truePositives: tps, falsePositives: fps)
    }

    /// The pixel-level curve at `PixelSweep`'s bucket edges; nil without both defect and normal pixels.
    public static func pixel(_ samples: [PixelSample]) -> ScoreCurve? {
        var pos = [Int](repeating: 0, count: PixelSweep.bucketCount), neg = pos
        for s in samples {
            s.scores.withUnsafeBufferPointer { scores in
                if let mask = s.mask {
                    for i in 0..<scores.count {
                        let b = Int(scoreKey(scores[i]) >> 16)
                        if mask[i] != 0 { pos[b] += 1 } else { neg[b] += 1 }
                    }
                } else {
                    for i in 0..<scores.count { neg[Int(scoreKey(scores[i]) >> 16)] += 1 }
                }
            }
        }
        var tp = 0, fp = 0, tps: [Int] = [], fps: [Int] = [], thresholds: [Float] = []
        for b in stride(from: PixelSweep.bucketCount - 1, through: 0, by: -1) where pos[b] + neg[b] > 0 {
            tp += pos[b]; fp += neg[b]
            tps.append(tp); fps.append(fp)
            thresholds.append(PixelThreshold.floatFromKey(UInt32(b) << 16))
        }
        guard tp > 0, fp > 0 else { return nil }
        return ScoreCurve(positives: tp, negatives: fp, thresholds: thresholds, truePositives: tps, falsePositives: fps)
    }

    /// (false-positive rate, true-positive rate) from (0, 0) to (1, 1).
    public var roc: [(x: Double, y: Double)] {
        [(0, 0)] + zip(falsePositives, truePositives).map { (Double($0) / Double(negatives), Double($1) / Double(positives)) }
    }

    /// (recall, precision), one point per threshold, highest threshold first.
    public var precisionRecall: [(x: Double, y: Double)] {
        zip(truePositives, falsePositives).map { tp, fp in
            (Double(tp) / Double(positives), tp + fp > 0 ? Double(tp) / Double(tp + fp) : 1)
        }
    }

    /// Trapezoid area under `roc` (equals AUROC at image level).
    public var rocArea: Double {
        let r = roc
        return zip(r, r.dropFirst()).reduce(0) { $0 + ($1.1.x - $1.0.x) * ($1.1.y + $1.0.y) / 2 }
    }

    /// Sum of recall steps times precision (equals AP at image level).
    public var precisionRecallArea: Double {
        var previous = 0.0, sum = 0.0
        for p in precisionRecall { sum += (p.x - previous) * p.y; previous = p.x }
        return sum
    }

    /// The threshold where F1 = 2·tp / (positives + tp + fp) is highest (the first such, i.e. the highest score).
    public var f1MaxThreshold: Float? {
        var best = -1.0, at: Float?
        for i in thresholds.indices {
            let f1 = 2 * Double(truePositives[i]) / Double(positives + truePositives[i] + falsePositives[i])
            if f1 > best { best = f1; at = thresholds[i] }
        }
        return at
    }
}

/// Where a threshold puts a class on its curves: counts of anomalous / normal samples predicted anomalous.
public struct OperatingPoint: Sendable, Equatable {
    public var truePositives: Int
    public var falsePositives: Int
    public var positives: Int
    public var negatives: Int

    public init(truePositives: Int, falsePositives: Int, positives: Int, negatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.positives = positives
        self.negatives = negatives
    }

    /// Counts for image scores labelled by `threshold`'s rule.
    public static func image(scores: [Float], labels: [Bool], threshold: ImageThreshold) -> OperatingPoint {
        var tp = 0, fp = 0
        for (s, l) in zip(scores, labels) where threshold.isAnomalous(s) { if l { tp += 1 } else { fp += 1 } }
        let p = labels.filter { $0 }.count
        return OperatingPoint(truePositives: tp, falsePositives: fp, positives: p, negatives: labels.count - p)
    }

    /// Counts for pixels at or above `threshold` (the overlays' "above threshold" rule).
    public static func pixel(_ samples: [PixelSample], threshold: Float) -> OperatingPoint {
        var tp = 0, fp = 0, p = 0, n = 0
        for s in samples {
            for i in 0..<s.scores.count {
                let defect = (s.mask?[i] ?? 0) != 0
                if defect { p += 1 } else { n += 1 }
                if s.scores[i] >= threshold { if defect { tp += 1 } else { fp += 1 } }
            }
        }
        return OperatingPoint(truePositives: tp, falsePositives: fp, positives: p, negatives: n)
    }

    public var falsePositiveRate: Double { negatives > 0 ? Double(falsePositives) / Double(negatives) : 0 }
    public var recall: Double { positives > 0 ? Double(truePositives) / Double(positives) : 0 }
    public var precision: Double { truePositives + falsePositives > 0 ? Double(truePositives) / Double(truePositives + falsePositives) : 1 }
}
