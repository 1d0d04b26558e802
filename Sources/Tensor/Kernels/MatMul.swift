/// Matrix products on tensors (OpenBLAS sgemm underneath).
extension Tensor {
    /// x[..., in] · weightᵀ + bias, with a PyTorch `nn.Linear` weight of shape [out, in].
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let k = shape[shape.count - 1], n = weight.shape[0]
        precondition(weight.rank == 2 && weight.shape[1] == k, "linear: input \(shape), weight \(weight.shape)")
        let m = count / max(k, 1)
        let out = Tensor.linearOutput(Array(shape.dropLast()) + [n], rows: m, bias: bias)
        BLAS.gemmSplittingRows(transB: true, m: m, n: n, k: k, a: data, b: weight.data, beta: bias == nil ? 0 : 1,
                               c: out.mutableData)
        return out
    }

    /// A linear layer's output before its product: the bias in every row, or uninitialised without one (the
    /// product then writes it with beta 0).
    static func linearOutput(_ shape: [Int], rows m: Int, bias: Tensor?) -> Tensor {
        let out = Tensor(uninitialized: shape), n = shape[shape.count - 1]
        guard let bias else { return out }
        precondition(bias.count == n, "linear: bias \(bias.shape), expected [\(n)]")
        let c = out.mutableData, b = bias.data
        Parallel.rows(m, width: n) { rows in
            for r in rows { (c + r * n).update(from: b, count: n) }
        }
        return out
    }

    /// x[..., k] · w[k, n] (a projection matrix stored input-major, like CLIP's `proj` and `text_projection`).
    public func matmul(_ w: Tensor) -> Tensor {
        let k = shape[shape.count - 1]
        precondition(w.rank == 2 && w.shape[0] == k, "matmul: \(shape) x \(w.shape)")
        let n = w.shape[1], m = count / max(k, 1)
        let out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
        BLAS.gemm(m: m, n: n, k: k, a: data, b: w.data, c: out.mutableData)
        return out
    }

    /// Transpose of a 2-D tensor (copy), in 32 x 32 tiles so reads and writes both stay in cache lines; large ones
    /// (a ViT-L/14's weights at load) split into row bands on all cores.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed: rank \(rank)")
        let r = shape[0], c = shape[1], tile = 32
        let out = Tensor(uninitialized: [c, r])
        let src = data, dst = out.mutableData
        Parallel.rows(r, width: c) { band in
            var i0 = band.lowerBound
            while i0 < band.upperBound {
                let i1 = min(band.upperBound, i0 + tile)
                var j0 = 0
                while j0 < c {
                    let j1 = min(c, j0 + tile)
                    for i in i0..<i1 { for j in j0..<j1 { dst[j * r + i] = src[i * c + j] } }
                    j0 = j1
                }
                i0 = i1
            }
        }
        return out
    }
}

// MARK: - Backward

extension Tensor {
    /// Backward of `linear` for the input: dx[..., in] = dy[..., out] · weight[out, in].
    public static func linearBackwardInput(_ dy: Tensor, weight: Tensor) -> Tensor {
        let n = weight.shape[0], k = weight.shape[1], m = dy.count / max(n, 1)
        let dx = Tensor(uninitialized: Array(dy.shape.dropLast()) + [k])
        BLAS.gemm(m: m, n: k, k: n, a: dy.data, b: weight.data, c: dx.mutableData)
        return dx
    }

    /// Backward of `linear` for a learnable weight: dW[out, in] = dyᵀ · x (rows of all leading dims).
    public static func linearBackwardWeight(_ dy: Tensor, input x: Tensor) -> Tensor {
        let n = dy.shape[dy.rank - 1], k = x.shape[x.rank - 1], m = x.count / max(k, 1)
        let dw = Tensor(uninitialized: [n, k])
        BLAS.gemm(transA: true, m: n, n: k, k: m, a: dy.data, b: x.data, c: dw.mutableData)
        return dw
    }

    /// Sum over all leading dimensions: [..., n] -> [n] (bias gradient, broadcast-add gradient).
    public func sumLeadingDimensions(to trailing: [Int]) -> Tensor {
        let n = Tensor.count(of: trailing)
        let out = Tensor(zeros: trailing)
        let x = data, z = out.mutableData
        for r in 0..<(count / max(n, 1)) { for i in 0..<n { z[i] += x[r * n + i] } }
        return out
    }
}
