/// The pixel score threshold at which pixel F1 is highest (everything `>=` it is predicted anomalous), used to
/// draw thresholded masks in overlays.
public enum PixelThreshold {
    /// Pixel counts up to this are swept exactly (8 bytes per pixel); above it a 65,536-bucket histogram of the
    /// top 16 key bits gives a threshold at a bucket's lower edge (within ~1% of the score).
    public static let exactLimit = 32_000_000

    /// The F1-max threshold over `samples`; nil when no pixel is a defect.
    public static func f1Max(_ samples: [PixelSample]) -> Float? {
        let total = samples.reduce(0) { $0 + $1.scores.count }
        let positives = samples.reduce(0) { $0 + ($1.mask?.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } ?? 0) }
        guard positives > 0, total > 0 else { return nil }
        return total <= exactLimit ? exact(samples, positives: positives, total: total)
                                   : bucketed(samples, positives: positives)
    }

    // MARK: - Exact

    /// Sorts (key << 1 | label) descending and walks the distinct scores.
    static func exact(_ samples: [PixelSample], positives: Int, total: Int) -> Float {
        var packed = [UInt64]()
        packed.reserveCapacity(total)
        for s in samples {
            for i in 0..<s.scores.count {
                let label: UInt64 = (s.mask?[i] ?? 0) != 0 ? 1 : 0
                packed.append(UInt64(scoreKey(s.scores[i])) << 1 | label)
            }
        }
        packed.sort(by: >)
        var tp = 0, fp = 0, best = -1.0, bestKey = packed[0] >> 1
        var i = 0
        while i < packed.count {
            let key = packed[i] >> 1
            while i < packed.count, packed[i] >> 1 == key {
                if packed[i] & 1 == 1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            let f1 = 2 * Double(tp) / Double(positives + tp + fp)
            if f1 > best { best = f1; bestKey = key }
        }
        return floatFromKey(UInt32(truncatingIfNeeded: bestKey))
    }

    // MARK: - Bucketed

    static func bucketed(_ samples: [PixelSample], positives: Int) -> Float {
        var pos = [Int](repeating: 0, count: 65_536), neg = pos
        for s in samples {
            for i in 0..<s.scores.count {
                let b = Int(scoreKey(s.scores[i]) >> 16)
                if (s.mask?[i] ?? 0) != 0 { pos[b] += 1 } else { neg[b] += 1 }
            }
        }
        var tp = 0, fp = 0, best = -1.0, bestBucket = 65_535
        for b in stride(from: 65_535, through: 0, by: -1) where pos[b] + neg[b] > 0 {
            tp += pos[b]; fp += neg[b]
            let f1 = 2 * Double(tp) / Double(positives + tp + fp)
            if f1 > best { best = f1; bestBucket = b }
        }
        return floatFromKey(UInt32(bestBucket) << 16)
    }

    /// Inverse of `scoreKey`.
    static func floatFromKey(_ key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
    }
}
