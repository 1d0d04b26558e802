/// Softmax, log-softmax and L2 normalisation over the last dimension.
extension Variable {
    public func softmax() -> Variable {
        let y = value.softmax(), w = shape[rank - 1]
        return unary("softmax", y) { g in
            let dx = Tensor(uninitialized: g.shape)
            Softmax.rowsBackward(probs: y.data, dProbs: g.data, dx: dx.mutableData, rows: g.count / max(w, 1), width: w)
            return dx
        }
    }

    public func logSoftmax() -> Variable {
        let w = shape[rank - 1], rows = count / max(w, 1)
        let y = value.copy()
        Softmax.logRows(y.mutableData, rows: rows, width: w)
        return unary("log softmax", y) { g in
            let dx = Tensor(uninitialized: g.shape)
            Softmax.logRowsBackward(output: y.data, dy: g.data, dx: dx.mutableData, rows: rows, width: w)
            return dx
        }
    }

    /// Each row divided by its L2 norm (CLIP feature normalisation).
    public func l2Normalized() -> Variable {
        let x = value, y = x.l2Normalized()
        return unary("l2 normalize", y) { Tensor.l2NormalizedBackward($0, input: x, output: y) }
    }
}
