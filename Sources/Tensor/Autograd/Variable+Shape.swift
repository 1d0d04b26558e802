/// Shape ops: reshape, transpose, concatenation and slices along an axis, row gather and row overwrite.
extension Variable {
    /// Same elements, new shape (one dimension may be -1).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let shape = self.shape
        return unary("reshape", value.reshaped(newShape)) { $0.reshaped(shape) }
    }

    /// Swaps the last two dimensions: [..., a, b] -> [..., b, a] (a copy).
    public func transposedLastTwo() -> Variable {
        unary("transpose", value.swappingLastTwo()) { $0.swappingLastTwo() }
    }

    // MARK: - Concatenate / slice

    /// Concatenation along `axis` (0: rows; 1 of [B, L, W]: tokens, as prompt learners join prefix, context, suffix).
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate of nothing")
        let values = parts.map(\.value)
        let out = Tensor.concatenate(values, axis: axis)
        let sizes = values.map { $0.shape[axis] }
        return parts[0].tape.record("concatenate", value: out, inputs: parts) { g, needs in
            var start = 0
            return sizes.enumerated().map { i, n in
                defer { start += n }
                return needs[i] ? g.slice(axis: axis, start..<(start + n)) : nil
            }
        }
    }

    /// Entries `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let shape = self.shape
        return unary("slice", value.slice(axis: axis, range)) { g in
            var d = Tensor(zeros: shape)
            d.addSlice(g, axis: axis, start: range.lowerBound)
            return d
        }
    }

    // MARK: - Rows

    /// Rows `indices` of [N, W] (e.g. the EOT row of each sequence of a flattened [B·L, W]).
    /// Repeated indices accumulate their gradients.
    public func gatherRows(_ indices: [Int]) -> Variable {
        precondition(rank == 2, "gatherRows on \(shape)")
        let shape = self.shape, w = shape[1]
        return unary("gather rows", value.gatherRows(indices)) { g in
            let d = Tensor(zeros: shape)
            let gp = g.data, dp = d.mutableData
            for (r, i) in indices.enumerated() { for c in 0..<w { dp[i * w + c] += gp[r * w + c] } }
            return d
        }
    }

    /// Writes `rows` over positions start..<start+n of every sequence of this [B, L, W] state. `rows` is [n, W]
    /// (the same vectors in every sequence, as AnomalyCLIP's deep prompts) or [B, n, W] (one set per sequence).
    /// The overwritten positions pass no gradient back to the state; theirs goes to `rows`.
    public func overwritingRows(start: Int, with rows: Variable) -> Variable {
        precondition(rank == 3, "overwritingRows on \(shape)")
        let b = shape[0], l = shape[1], w = shape[2]
        let perSequence = rows.rank == 3
        let n = perSequence ? rows.shape[1] : rows.shape[0]
        precondition(rows.shape.last == w && (!perSequence || rows.shape[0] == b) && (perSequence || rows.rank == 2)
                     && start >= 0 && start + n <= l, "overwritingRows \(rows.shape) into \(shape) at \(start)")
        var out = value.copy()
        let rv = rows.value
        for s in 0..<b {
            out.overwriteRows(sequence: s, start: start, with: perSequence ? rv[s] : rv)
        }
        let rowsShape = rows.shape
        return tape.record("overwrite rows", value: out, inputs: [self, rows]) { g, needs in
            var dState: Tensor?, dRows: Tensor?
            if needs[0] {
                var d = g.copy()
                d.withMutableData { p in
                    for s in 0..<b { (p.baseAddress! + (s * l + start) * w).update(repeating: 0, count: n * w) }
                }
                dState = d
            }
            if needs[1] {
                let d = Tensor(zeros: rowsShape)
                let gp = g.data, dp = d.mutableData
                for s in 0..<b {
                    let src = gp + (s * l + start) * w, dst = dp + (perSequence ? s * n * w : 0)
                    for i in 0..<(n * w) { dst[i] += src[i] }
                }
                dRows = d
            }
            return [dState, dRows]
        }
    }
}

// MARK: - Tensor helpers (copies along an axis)

extension Tensor {
    /// Splits the shape around `axis` into (outer count, axis size, inner count).
    func axisLayout(_ axis: Int) -> (outer: Int, size: Int, inner: Int) {
        precondition(axis >= 0 && axis < rank, "axis \(axis) of \(shape)")
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Concatenation along any axis; all other dimensions must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate of nothing")
        var shape = parts[0].shape
        for p in parts {
            precondition(p.rank == shape.count && p.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == shape[$0.offset] },
                         "concatenate \(p.shape) with \(shape) along \(axis)")
        }
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let out = Tensor(uninitialized: shape)
        let (outer, total, inner) = out.axisLayout(axis)
        var start = 0
        for p in parts {
            let n = p.shape[axis], src = p.data, dst = out.mutableData
            for o in 0..<outer { (dst + (o * total + start) * inner).update(from: src + o * n * inner, count: n * inner) }
            start += n
        }
        return out
    }

    /// Entries `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let (outer, size, inner) = axisLayout(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "slice \(range) of axis \(axis) in \(shape)")
        var s = shape
        s[axis] = range.count
        let out = Tensor(uninitialized: s)
        let src = data, dst = out.mutableData, n = range.count
        for o in 0..<outer {
            (dst + o * n * inner).update(from: src + (o * size + range.lowerBound) * inner, count: n * inner)
        }
        return out
    }

    /// Adds `part` into entries start..<start+part.shape[axis] along `axis`.
    mutating func addSlice(_ part: Tensor, axis: Int, start: Int) {
        let (outer, size, inner) = axisLayout(axis)
        let n = part.shape[axis], src = part.data
        withMutableData { buf in
            let dst = buf.baseAddress!
            for o in 0..<outer {
                let d = dst + (o * size + start) * inner, s = src + o * n * inner
                for i in 0..<(n * inner) { d[i] += s[i] }
            }
        }
    }

    /// [..., a, b] -> [..., b, a].
    func swappingLastTwo() -> Tensor {
        precondition(rank >= 2, "transpose of \(shape)")
        let a = shape[rank - 2], b = shape[rank - 1], batches = count / max(a * b, 1)
        let out = Tensor(uninitialized: Array(shape.dropLast(2)) + [b, a])
        let src = data, dst = out.mutableData
        for m in 0..<batches {
            let s = src + m * a * b, d = dst + m * a * b
            for i in 0..<a { for j in 0..<b { d[j * a + i] = s[i * b + j] } }
        }
        return out
    }
}
