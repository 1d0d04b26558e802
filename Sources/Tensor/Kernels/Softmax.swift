/// Numerically stable softmax over rows.
public enum Softmax {
    /// In place over `rows` rows of `width`; with `causal` only the first r+1 entries of row r take part and
    /// the rest become 0.
    public static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, causal: Bool = false) {
        exponentiateRows(x, rows: rows, width: width, causal: causal) { r, sum in
            let p = x + r * width, inv = 1 / sum
            for j in 0..<width { p[j] *= inv }
        }
    }

    /// exp(x - row max) of each row in place, left unnormalised, masked entries 0 (as `rows`); hands each row's
    /// sum to `rowSum(r, sum)`.
    @inline(__always)
    public static func exponentiateRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, causal: Bool,
                                        _ rowSum: (Int, Float) -> Void) {
        for r in 0..<rows {
            let p = x + r * width
            let valid = causal ? min(r + 1, width) : width
            let sum = exponentiate(p, count: valid)
            if valid < width { (p + valid).update(repeating: 0, count: width - valid) }
            rowSum(r, sum)
        }
    }

    /// exp(x - max x) of one row in place, left unnormalised; returns the row's sum. Attention divides its output
    /// rows by the sum instead (headDim values a row, not T), so this is the whole softmax pass it needs.
    @inline(__always)
    public static func exponentiate(_ p: UnsafeMutablePointer<Float>, count n: Int) -> Float {
        let m = maximum(p, count: n)
        let mv = FastMath.Vec(repeating: m)
        var acc = FastMath.Vec(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let e = FastMath.expOfNonPositive(loadVec(p + i) - mv)
            storeVec(e, p + i)
            acc += e
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            let e = FastMath.exp(p[i] - m)
            p[i] = e
            sum += e
            i += 1
        }
        return sum
    }

    /// Largest of `n` floats in 8 lanes (a scalar `max` loop is not vectorised).
    @inline(__always)
    static func maximum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var lanes = FastMath.Vec(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            let v = loadVec(p + i)
            lanes.replace(with: v, where: v .> lanes)   // a blend; `pointwiseMax` is an out-of-line call per vector
            i += 8
        }
        var m = lanes.max()
        while i < n {
            m = max(m, p[i])
            i += 1
        }
        return m
    }
}

extension Tensor {
    /// Softmax over the last dimension.
    public func softmax() -> Tensor {
        var out = copy()
        let w = shape[shape.count - 1]
        out.withMutableData { Softmax.rows($0.baseAddress!, rows: count / max(w, 1), width: w) }
        return out
    }
}

extension Softmax {
    /// Backward of `rows`: probs, dProbs, dx: [rows, width]; dx = p · (dp - Σ p·dp) per row. Masked (causal)
    /// entries have p = 0 and so get no gradient. Writes dx; dx may alias dProbs.
    public static func rowsBackward(
        probs: UnsafePointer<Float>, dProbs: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        rows: Int, width: Int
    ) {
        for r in 0..<rows {
            let p = probs + r * width, dp = dProbs + r * width, d = dx + r * width
            var dot: Float = 0
            for i in 0..<width { dot += p[i] * dp[i] }
            for i in 0..<width { d[i] = p[i] * (dp[i] - dot) }
        }
    }

    /// Log-softmax of rows in place: x - max - log Σ exp(x - max).
    public static func logRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let p = x + r * width
            var m = -Float.infinity
            for i in 0..<width { m = max(m, p[i]) }
            var sum: Double = 0
            for i in 0..<width { sum += Double(FastMath.exp(p[i] - m)) }
            let shift = m + Float(_logDouble(sum))
            for i in 0..<width { p[i] -= shift }
        }
    }

    /// Backward of `logRows` from its output y: dx = dy - softmax(x) · Σ dy. Writes dx; dx may alias dy.
    public static func logRowsBackward(
        output y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        rows: Int, width: Int
    ) {
        for r in 0..<rows {
            let yr = y + r * width, g = dy + r * width, d = dx + r * width
            var sum: Float = 0
            for i in 0..<width { sum += g[i] }
            for i in 0..<width { d[i] = g[i] - FastMath.exp(yr[i]) * sum }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _logDouble(_ x: Double) -> Double { Glibc.log(x) }
#else
import Foundation
@inline(__always) func _logDouble(_ x: Double) -> Double { Foundation.log(x) }
#endif
