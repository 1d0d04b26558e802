import Foundation

/// 2-D Gaussian smoothing with `scipy.ndimage.gaussian_filter` semantics: separable 1-D correlations along rows
/// then columns (axis 0, then axis 1), radius int(truncate·sigma + 0.5), mode "reflect" (d c b a | a b c d | d c b a),
/// sums in Float64 per line and a Float32 result after each axis, as scipy does for float32 input.
public struct GaussianFilter: Sendable {
    /// The sigmas configurations may hold: scipy's kernel radius is 4 sigma, and 1000 already smooths a 4096-pixel
    /// map flat.
    public static let sigmaRange = 0.0...1000.0

    public let sigma: Double
    public let radius: Int
    let weights: [Double]   // 2*radius + 1 taps

    public init(sigma: Double, truncate: Double = 4.0) {
        // Settings are validated where they are read (configurations, metadata); a negative or non-finite sigma
        // would make an empty range or a NaN radius here.
        precondition(sigma.isFinite && sigma >= 0 && truncate.isFinite && truncate >= 0 && truncate * sigma < 1e7,
                     "GaussianFilter: sigma \(sigma), truncate \(truncate)")
        self.sigma = sigma
        // scipy leaves an axis untouched for sigma ~ 0 (the formula below would divide 0 by 0)
        guard sigma > 1e-15 else {
            radius = 0
            weights = [1]
            return
        }
        radius = Int(truncate * sigma + 0.5)
        var w = (-radius...radius).map { x in Foundation.exp(-0.5 * Double(x * x) / (sigma * sigma)) }
        let sum = w.reduce(0, +)
        w = w.map { $0 / sum }
        weights = w
    }

    /// Index into [0, n) for a position outside it under mode "reflect" (period 2n).
    @inline(__always)
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        let period = 2 * n
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - 1 - m
    }

    /// Smooths an H x W plane; returns a new plane.
    public func apply(_ input: UnsafePointer<Float>, height h: Int, width w: Int, output: UnsafeMutablePointer<Float>) {
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: h * w)
        defer { tmp.deallocate() }
        var line = [Double](repeating: 0, count: max(h, w) + 2 * radius)
        // Axis 0 (down each column).
        for x in 0..<w {
            for i in -radius..<(h + radius) { line[i + radius] = Double(input[GaussianFilter.reflect(i, h) * w + x]) }
            for y in 0..<h {
                var s = 0.0
                for k in 0..<weights.count { s += line[y + k] * weights[k] }
                tmp[y * w + x] = Float(s)
            }
        }
        // Axis 1 (along each row).
        for y in 0..<h {
            let row = tmp + y * w
            for i in -radius..<(w + radius) { line[i + radius] = Double(row[GaussianFilter.reflect(i, w)]) }
            for x in 0..<w {
                var s = 0.0
                for k in 0..<weights.count { s += line[x + k] * weights[k] }
                output[y * w + x] = Float(s)
            }
        }
    }

    /// Smooths every [H, W] plane of a [..., H, W] tensor.
    public func apply(_ t: Tensor) -> Tensor {
        let h = t.shape[t.rank - 2], w = t.shape[t.rank - 1], planes = t.count / max(h * w, 1)
        let out = Tensor(uninitialized: t.shape)
        let src = t.data, dst = out.mutableData
        Parallel.forEach(planes) { p in apply(src + p * h * w, height: h, width: w, output: dst + p * h * w) }
        return out
    }
}
