/// Samples grouped by equal score, highest score first: per distinct score, how many are anomalous and normal.
struct ScoreGroups {
    /// (positives, negatives) per distinct score, in decreasing score order.
    let groups: [(positives: Int, negatives: Int)]
    let positives: Int
    let negatives: Int

    /// Validates and groups image-level scores (`labels[i]` true = anomalous).
    init(scores: [Float], labels: [Bool], what: String) throws {
        guard scores.count == labels.count else {
            throw MetricError.countMismatch(what: what, scores: scores.count, labels: labels.count)
        }
        guard !scores.isEmpty else { throw MetricError.empty(what: what) }
        var keyed = [UInt64]()
        keyed.reserveCapacity(scores.count)
        for (i, x) in scores.enumerated() {
            guard x.isFinite else { throw MetricError.nonFiniteScore(what: what, index: i, value: x) }
            // key in the high bits, label in bit 0: one sort orders by score and keeps the label attached.
            keyed.append(UInt64(scoreKey(x)) << 1 | (labels[i] ? 1 : 0))
        }
        keyed.sort(by: >)
        var groups = [(positives: Int, negatives: Int)]()
        var p = 0, n = 0, total = 0
        var current = keyed[0] >> 1
        for k in keyed {
            if k >> 1 != current {
                groups.append((p, n))
                p = 0; n = 0
                current = k >> 1
            }
            if k & 1 == 1 { p += 1; total += 1 } else { n += 1 }
        }
        groups.append((p, n))
        self.groups = groups
        positives = total
        negatives = scores.count - total
    }

    /// Runs the threshold sweep over all groups.
    func sweep() -> ThresholdSweep {
        var s = ThresholdSweep(positives: positives, negatives: negatives)
        for g in groups { s.add(positives: g.positives, negatives: g.negatives) }
        return s
    }
}
