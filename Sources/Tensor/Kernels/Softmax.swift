/// Numerically stable softmax over rows.
public enum Softmax {
    /// In place over `rows` rows of `width`; with `validWidth(r)` only the first entries of a row take part and
    /// the rest become 0 (a causal mask: row r sees columns 0...r).
    public static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, causal: Bool = false) {
        for r in 0..<rows {
            let p = x + r * width
            let valid = causal ? min(r + 1, width) : width
            row(p, count: valid)
            if valid < width { (p + valid).update(repeating: 0, count: width - valid) }
        }
    }

    /// Softmax of one row in place.
    @inline(__always)
    public static func row(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, p[i]) }
        var sum: Float = 0
        var i = 0
        let mv = FastMath.Vec(repeating: m)
        var acc = FastMath.Vec(repeating: 0)
        while i + 8 <= n {
            let e = FastMath.exp(loadVec(p + i) - mv)
            storeVec(e, p + i)
            acc += e
            i += 8
        }
        sum = acc.sum()
        while i < n {
            let e = FastMath.exp(p[i] - m)
            p[i] = e
            sum += e
            i += 1
        }
        let inv = 1 / sum
        for j in 0..<n { p[j] *= inv }
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
