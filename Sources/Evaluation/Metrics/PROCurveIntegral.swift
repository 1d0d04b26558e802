/// Running integral of the PRO-vs-FPR curve up to an FPR limit, fed one distinct threshold at a time
/// (highest first), as the official MVTec AD evaluation (`compute_pro` + `trapezoid`) defines it.
///
/// The curve starts at (0, 0) and has one point per distinct threshold t: FPR = anomaly-free pixels >= t over
/// all anomaly-free pixels, PRO = mean over defect regions of (region pixels >= t) / region size. Consecutive
/// points are joined by straight lines; the segment that crosses the limit is cut there by linear
/// interpolation (the official `trapezoid`'s correction term).
struct PROCurveIntegral {
    let regionCount: Int
    let normalCount: Int
    let limit: Double
    private(set) var falsePositives: Int
    /// Sum over region pixels at or above the current threshold of 1 / (their region's size).
    private(set) var overlapSum: Double
    /// Area under the curve from FPR 0 to min(current FPR, limit).
    private(set) var area = 0.0

    init(regionCount: Int, normalCount: Int, limit: Double, falsePositivesAbove: Int = 0, overlapAbove: Double = 0) {
        self.regionCount = regionCount
        self.normalCount = normalCount
        self.limit = limit
        falsePositives = falsePositivesAbove
        overlapSum = overlapAbove
    }

    /// Lowers the threshold past one distinct score held by `n` anomaly-free pixels and region pixels whose
    /// 1/size weights sum to `w`.
    @inline(__always)
    mutating func add(normals n: Int, overlap w: Double) {
        let x0 = Double(falsePositives) / Double(normalCount)
        let y0 = overlapSum / Double(regionCount)
        falsePositives += n
        overlapSum += w
        guard x0 < limit else { return }
        let x1 = Double(falsePositives) / Double(normalCount)
        let y1 = overlapSum / Double(regionCount)
        if x1 <= limit {
            area += 0.5 * (y0 + y1) * (x1 - x0)
        } else {
            let yLimit = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
            area += 0.5 * (yLimit + y0) * (limit - x0)
        }
    }
}
