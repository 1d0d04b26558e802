/// Elementwise arithmetic and row reductions.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.zip(b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.zip(b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.zip(b, *) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }

    /// Elementwise op; `b` may also have the shape of `self`'s trailing dimensions (broadcast over the leading ones).
    public func zip(_ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = b.data, z = out.mutableData
        if b.count == count {
            for i in 0..<count { z[i] = op(x[i], y[i]) }
        } else {
            let w = b.count
            precondition(w > 0 && Array(shape.suffix(b.rank)) == b.shape, "broadcast \(shape) with \(b.shape)")
            for i in 0..<count { z[i] = op(x[i], y[i % w]) }
        }
        return out
    }

    public func map(_ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, z = out.mutableData
        for i in 0..<count { z[i] = f(x[i]) }
        return out
    }

    /// Adds `other` into self in place (same shape).
    public mutating func add(_ other: Tensor) {
        precondition(other.count == count, "add \(shape) + \(other.shape)")
        let y = other.data
        withMutableData { x in
            guard let base = x.baseAddress else { return }
            Parallel.ranges(x.count) { range in for i in range { base[i] += y[i] } }
        }
    }

    /// Each row of the last dimension divided by its L2 norm (zero rows stay zero).
    public func l2Normalized() -> Tensor {
        let w = shape[shape.count - 1]
        let out = Tensor(uninitialized: shape)
        let x = data, z = out.mutableData
        for r in 0..<(count / max(w, 1)) {
            var s: Float = 0
            for i in 0..<w { s += x[r * w + i] * x[r * w + i] }
            let inv: Float = s > 0 ? 1 / s.squareRoot() : 0
            for i in 0..<w { z[r * w + i] = x[r * w + i] * inv }
        }
        return out
    }

    /// Rows `indices` of a 2-D tensor (embedding lookup / gather).
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank == 2, "gatherRows on \(shape)")
        let w = shape[1]
        let out = Tensor(uninitialized: [indices.count, w])
        for (r, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[0], "row \(i) out of \(shape[0])")
            (out.mutableData + r * w).update(from: data + i * w, count: w)
        }
        return out
    }

    /// Concatenation along the leading dimension.
    public static func concatenate(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenate of nothing")
        let inner = Array(parts[0].shape.dropFirst())
        let rows = parts.reduce(0) { $0 + $1.shape[0] }
        let out = Tensor(uninitialized: [rows] + inner)
        var p = out.mutableData
        for t in parts {
            precondition(Array(t.shape.dropFirst()) == inner, "concatenate \(t.shape) with \(inner)")
            p.update(from: t.data, count: t.count)
            p += t.count
        }
        return out
    }

    public var maxAbs: Float { withData { $0.reduce(0) { max($0, abs($1)) } } }
}

extension Tensor {
    /// Writes `rows` [n, W] over rows start..<start+n of sequence `sequence` in a [B, L, W] tensor.
    public mutating func overwriteRows(sequence: Int, start: Int, with rows: Tensor) {
        precondition(rank == 3 && rows.rank == 2 && rows.shape[1] == shape[2] && start + rows.shape[0] <= shape[1],
                     "overwriteRows \(rows.shape) into \(shape) at \(start)")
        let w = shape[2], l = shape[1]
        let src = rows.data
        withMutableData { dst in
            (dst.baseAddress! + (sequence * l + start) * w).update(from: src, count: rows.count)
        }
    }

    /// Each element rounded to the nearest Float16 and back (matches a `.half()` cast in PyTorch code).
    public func roundedToHalfPrecision() -> Tensor {
        map { Float(Float16($0)) }
    }
}

// MARK: - Backward

extension Tensor {
    /// Backward of `l2Normalized` given its output y = x/‖x‖: dx = (dy - y·(y·dy)) / ‖x‖ per row (zero rows: 0).
    public static func l2NormalizedBackward(_ dy: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
        let w = x.shape[x.rank - 1]
        let dx = Tensor(uninitialized: x.shape)
        let xp = x.data, yp = y.data, g = dy.data, d = dx.mutableData
        for r in 0..<(x.count / max(w, 1)) {
            var s: Float = 0, dot: Float = 0
            for i in 0..<w { s += xp[r * w + i] * xp[r * w + i]; dot += yp[r * w + i] * g[r * w + i] }
            let inv: Float = s > 0 ? 1 / s.squareRoot() : 0
            for i in 0..<w { d[r * w + i] = (g[r * w + i] - yp[r * w + i] * dot) * inv }
        }
        return dx
    }
}
