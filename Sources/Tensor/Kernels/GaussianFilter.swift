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

    /// Smooths an H x W plane into `output`. Eight columns at a time: each output still sums its taps in order, in
    /// Float64, so the result is the scalar loop's, bit for bit.
    public func apply(_ input: UnsafePointer<Float>, height h: Int, width w: Int, output: UnsafeMutablePointer<Float>) {
        guard h > 0, w > 0 else { return }   // nothing to smooth, and reflect() needs a non-empty axis
        let taps = weights.count, r = radius
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: h * w)
        let line = UnsafeMutablePointer<Double>.allocate(capacity: w + 2 * r)
        // The reflected input row of each padded row position -r ..< h + r, once per plane rather than per column chunk.
        let sourceRow = UnsafeMutablePointer<Int>.allocate(capacity: h + 2 * r)
        defer { tmp.deallocate(); line.deallocate(); sourceRow.deallocate() }
        for i in 0..<(h + 2 * r) { sourceRow[i] = Self.reflect(i - r, h) }
        weights.withUnsafeBufferPointer { weights in
            // Axis 0: output row y weighs input rows y - r ... y + r (reflected).
            for y in 0..<h {
                let out = tmp + y * w
                var x = 0
                while x + 8 <= w {
                    var sum = SIMD8<Double>()
                    for k in 0..<taps {
                        sum += Self.load8(input + sourceRow[y + k] * w + x) * weights[k]
                    }
                    Self.store8(sum, out + x)
                    x += 8
                }
                while x < w {
                    var s = 0.0
                    for k in 0..<taps { s += Double(input[sourceRow[y + k] * w + x]) * weights[k] }
                    out[x] = Float(s)
                    x += 1
                }
            }
            // Axis 1: along each row, from a reflected Float64 copy of it.
            for y in 0..<h {
                let row = tmp + y * w, out = output + y * w
                for i in 0..<(w + 2 * r) { line[i] = Double(row[Self.reflect(i - r, w)]) }
                var x = 0
                while x + 8 <= w {
                    var sum = SIMD8<Double>()
                    for k in 0..<taps {
                        sum += UnsafeRawPointer(line + x + k).loadUnaligned(as: SIMD8<Double>.self) * weights[k]
                    }
                    Self.store8(sum, out + x)
                    x += 8
                }
                while x < w {
                    var s = 0.0
                    for k in 0..<taps { s += line[x + k] * weights[k] }
                    out[x] = Float(s)
                    x += 1
                }
            }
        }
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Double> {
        let f = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        return SIMD8<Double>(Double(f[0]), Double(f[1]), Double(f[2]), Double(f[3]),
                             Double(f[4]), Double(f[5]), Double(f[6]), Double(f[7]))
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Float>) {
        let f = SIMD8<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]),
                             Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
        UnsafeMutableRawPointer(p).storeBytes(of: f, as: SIMD8<Float>.self)
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
