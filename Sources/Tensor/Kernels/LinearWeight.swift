/// A frozen linear layer's weight, held input-major: the PyTorch `nn.Linear` weight [out, in] transposed once, at
/// load, to [in, out]. The forward product x · W then runs with neither side transposed: on a Zen 4 (AVX-512)
/// oneDNN's two-thread sgemm ran ClipAD's linear shapes at 160-232 GFLOP/s from 8 rows up this way, against 42-212
/// with the weight transposed, and OpenBLAS at 0.9-1.4x its transposed rate; on a Zen 3 (AVX2) OpenBLAS ran it level
/// with its transposed rate and oneDNN well only below ~128 rows (`GEMMLibrary.preferred`; docs/PERFORMANCE.md,
/// "Weight layout").
public struct LinearWeight: Sendable {
    /// [in, out].
    public let inputMajor: Tensor

    /// From a PyTorch weight [out, in] (copied, transposed). When the weight lies in a mapped checkpoint, its pages
    /// are released after the copy, so the process holds the weight once.
    public init(_ pytorchWeight: Tensor) {
        precondition(pytorchWeight.rank == 2, "LinearWeight: weight \(pytorchWeight.shape)")
        inputMajor = pytorchWeight.transposed()
        pytorchWeight.storage.releaseResidentPages(offset: pytorchWeight.offset, count: pytorchWeight.count)
    }

    public var inFeatures: Int { inputMajor.shape[0] }
    public var outFeatures: Int { inputMajor.shape[1] }

    /// The PyTorch layout [out, in] again (a copy; for tests and exports).
    public var pytorchLayout: Tensor { inputMajor.transposed() }
}

extension Tensor {
    /// x[..., in] · W + bias: `linear(weight:bias:)` with an input-major weight.
    public func linear(_ weight: LinearWeight, bias: Tensor? = nil) -> Tensor {
        let k = shape[shape.count - 1], n = weight.outFeatures
        precondition(weight.inFeatures == k, "linear: input \(shape), weight [in \(weight.inFeatures), out \(n)]")
        let m = count / max(k, 1)
        let out = Tensor.linearOutput(Array(shape.dropLast()) + [n], rows: m, bias: bias)
        BLAS.gemmSplittingRows(transB: false, m: m, n: n, k: k, a: data, b: weight.inputMajor.data,
                               beta: bias == nil ? 0 : 1, c: out.mutableData)
        return out
    }

    /// residual + x · W + bias: a transformer block's residual update in one output. The residual plus bias is
    /// written first and the product accumulates onto it, instead of a separate pass adding two fresh tensors.
    public func linear(_ weight: LinearWeight, bias: Tensor, addingTo residual: Tensor) -> Tensor {
        let k = shape[shape.count - 1], n = weight.outFeatures
        precondition(weight.inFeatures == k, "linear: input \(shape), weight [in \(weight.inFeatures), out \(n)]")
        let m = count / max(k, 1)
        precondition(bias.count == n, "linear: bias \(bias.shape), expected [\(n)]")
        precondition(residual.count == m * n, "linear: residual \(residual.shape) for output [\(m), \(n)]")
        let out = Tensor(uninitialized: residual.shape)
        let c = out.mutableData, b = bias.data, res = residual.data
        Parallel.rows(m, width: n) { rows in
            for r in rows { for j in 0..<n { c[r * n + j] = res[r * n + j] + b[j] } }
        }
        BLAS.gemmSplittingRows(transB: false, m: m, n: n, k: k, a: data, b: weight.inputMajor.data, beta: 1,
                               c: c)
        return out
    }

    /// Backward of `linear(_:bias:)` for the input: dx[..., in] = dy[..., out] · Wᵀ.
    public static func linearBackwardInput(_ dy: Tensor, weight: LinearWeight) -> Tensor {
        let n = weight.outFeatures, k = weight.inFeatures, m = dy.count / max(n, 1)
        let dx = Tensor(uninitialized: Array(dy.shape.dropLast()) + [k])
        BLAS.gemm(transB: true, m: m, n: k, k: n, a: dy.data, b: weight.inputMajor.data, c: dx.mutableData)
        return dx
    }
}
