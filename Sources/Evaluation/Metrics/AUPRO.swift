import Tensor

/// Which per-region-overlap (PRO) integral to report.
public enum PROMode: String, CaseIterable, Sendable {
    /// Official MVTec AD evaluation: exact over every distinct threshold, trapezoid up to the FPR limit,
    /// interpolated at the limit, divided by the limit.
    case mvtec
    /// AnomalyCLIP / APRIL-GAN `cal_pro_score`: 200 evenly spaced thresholds, points with FPR < 0.3,
    /// FPR min-max rescaled to [0, 1], trapezoid (not divided by the limit).
    case anomalyclip
}

/// Area under the per-region-overlap curve (definitions in docs/METRICS.md).
public enum AUPRO {
    // MARK: - Official MVTec AD

    /// AUPRO as the official MVTec AD evaluation defines it (8-connected ground-truth regions, every distinct
    /// threshold, FPR over all anomaly-free pixels, normalised by `fprLimit`).
    public static func compute(_ samples: [PixelSample], fprLimit: Double = 0.3) throws -> Double {
        do {
            let r = try PixelSweep.run(samples, withAUPRO: true, fprLimit: fprLimit)
            guard let aupro = r.aupro else { throw MetricError.noDefectRegions }
            return aupro
        } catch let MetricError.missingClass(_, positives, _) {
            throw positives == 0 ? MetricError.noDefectRegions : MetricError.noNormalPixels
        }
    }

    // MARK: - AnomalyCLIP variant

    /// AnomalyCLIP's `cal_pro_score` (zqhang/AnomalyCLIP `metrics.py`), reproduced operation by operation:
    /// thresholds `np.arange(min, max, (max - min) / steps)` over all maps (numpy 2 semantics, see
    /// `anomalyCLIPThresholds`); a pixel is positive when its score is > the threshold; per threshold, PRO is
    /// the mean over all 8-connected regions (skimage `label` default) of positive pixels / region area and
    /// FPR = positive anomaly-free pixels / anomaly-free pixels; points with FPR < `expectedFPR` are kept, FPR
    /// is min-max rescaled and the area is sklearn `auc` (trapezoid).
    public static func anomalyCLIP(_ samples: [PixelSample], steps: Int = 200, expectedFPR: Double = 0.3) throws
        -> Double
    {
        guard !samples.isEmpty else { throw MetricError.empty(what: "AUPRO (anomalyclip)") }
        guard steps > 0, steps <= 1_000_000 else { throw MetricError.invalidOption("PRO steps \(steps)") }
        var lo = Float.infinity, hi = -Float.infinity
        for (s, sample) in samples.enumerated() {
            for (i, x) in sample.scores.enumerated() {
                guard x.isFinite else { throw MetricError.nonFiniteScore(what: "map \(s)", index: i, value: x) }
                lo = min(lo, x); hi = max(hi, x)
            }
        }
        let thresholds = try anomalyCLIPThresholds(minimum: lo, maximum: hi, steps: steps)
        let T = thresholds.count

        // Per map: histogram of "how many thresholds lie below this pixel's score" for normal pixels and per
        // region; a pixel with count j is positive at thresholds 0..<j.
        struct MapCounts { var normal: [Int] = []; var regions: [[Int]] = []; var regionSizes: [Int] = [] }
        var perMap = [MapCounts](repeating: MapCounts(), count: samples.count)
        perMap.withUnsafeMutableBufferPointer { out in
            let ptr = UncheckedPointer(out.baseAddress!)
            Parallel.forEach(samples.count) { s in
                let sample = samples[s]
                var counts = MapCounts(normal: [Int](repeating: 0, count: T + 1))
                var components: ConnectedComponents?
                if let mask = sample.mask {
                    components = try? ConnectedComponents(mask: mask, width: sample.width, height: sample.height)
                }
                let regionCount = components?.count ?? 0
                counts.regionSizes = components?.sizes ?? []
                counts.regions = [[Int]](repeating: [Int](repeating: 0, count: T + 1), count: regionCount)
                for i in 0..<sample.scores.count {
                    let j = countBelow(Double(sample.scores[i]), thresholds)
                    if let c = components, c.labels[i] != 0 {
                        counts.regions[Int(c.labels[i]) - 1][j] += 1
                    } else {
                        counts.normal[j] += 1
                    }
                }
                ptr.base[s] = counts
            }
        }

        var normalHist = [Int](repeating: 0, count: T + 1)
        var regionHists = [[Int]](), areas = [Int]()
        for m in perMap {
            for j in 0...T { normalHist[j] += m.normal[j] }
            regionHists.append(contentsOf: m.regions)
            areas.append(contentsOf: m.regionSizes)
        }
        let normals = normalHist.reduce(0, +)
        guard !areas.isEmpty else { throw MetricError.noDefectRegions }
        guard normals > 0 else { throw MetricError.noNormalPixels }

        // Suffix sums: positives at threshold k are those with count j > k.
        var fprs = [Double](), pros = [Double]()
        var normalAbove = 0
        var regionAbove = [Int](repeating: 0, count: areas.count)
        var fprAll = [Double](repeating: 0, count: T), proAll = [Double](repeating: 0, count: T)
        for k in stride(from: T - 1, through: 0, by: -1) {
            normalAbove += normalHist[k + 1]
            var sum = 0.0
            for r in 0..<areas.count {
                regionAbove[r] += regionHists[r][k + 1]
                sum += Double(regionAbove[r]) / Double(areas[r])
            }
            fprAll[k] = Double(normalAbove) / Double(normals)
            proAll[k] = sum / Double(areas.count)
        }
        for k in 0..<T where fprAll[k] < expectedFPR {
            fprs.append(fprAll[k]); pros.append(proAll[k])
        }
        guard fprs.count >= 2, let fMin = fprs.min(), let fMax = fprs.max(), fMax > fMin else {
            throw MetricError.degenerateCurve(
                "AnomalyCLIP mode keeps \(fprs.count) threshold(s) with FPR < \(expectedFPR) and needs two distinct FPRs")
        }
        let x = fprs.map { ($0 - fMin) / (fMax - fMin) }
        return sklearnAUC(x: x, y: pros)
    }

    /// `np.arange(min, max, (max - min) / steps)` for float32 `min`/`max` as numpy 2 evaluates it: the step is
    /// float32, the length is ceil of the float32 quotient, the second value is the float32 sum min + step, and
    /// later values are min + i * (second - min) in double.
    public static func anomalyCLIPThresholds(minimum: Float, maximum: Float, steps: Int = 200) throws -> [Double] {
        let delta = (maximum - minimum) / Float(steps)
        guard delta > 0, delta.isFinite else {
            throw MetricError.degenerateCurve("all anomaly scores equal \(minimum); no thresholds between min and max")
        }
        let quotient = ((maximum - minimum) / delta).rounded(.up)
        guard quotient.isFinite, quotient >= 1, quotient <= Float(2 * steps + 2) else {
            throw MetricError.degenerateCurve("threshold count \(quotient) for \(steps) steps")
        }
        let count = Int(quotient)
        let first = Double(minimum)
        let second = Double(minimum + delta)
        let step = second - first
        var t = [Double](repeating: first, count: count)
        if count > 1 { t[1] = second }
        if count > 2 { for i in 2..<count { t[i] = first + Double(i) * step } }
        return t
    }

    /// Number of thresholds strictly below `x` (thresholds ascending).
    @inline(__always)
    static func countBelow(_ x: Double, _ t: [Double]) -> Int {
        var lo = 0, hi = t.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if t[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// sklearn `auc`: trapezoid with the direction of a monotonic x (x here is non-increasing).
    static func sklearnAUC(x: [Double], y: [Double]) -> Double {
        var area = 0.0
        for i in 1..<x.count { area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        let decreasing = zip(x, x.dropFirst()).contains { $1 < $0 }
        return decreasing ? -area : area
    }
}
