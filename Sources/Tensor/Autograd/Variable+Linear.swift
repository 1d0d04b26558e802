/// Matrix products: linear layers and projections, with constant (frozen) or learnable weights.
extension Variable {
    /// x[..., in] · W + b with a frozen input-major weight (`LinearWeight`): only dx = dy · Wᵀ is computed.
    public func linear(_ weight: LinearWeight, bias: Tensor? = nil) -> Variable {
        unary("linear", value.linear(weight, bias: bias)) { Tensor.linearBackwardInput($0, weight: weight) }
    }

    /// x[..., in] · Wᵀ + b with a learnable weight [out, in] (and bias [out]).
    public func linear(weight: Variable, bias: Variable? = nil) -> Variable {
        let x = value, w = weight.value, n = w.shape[0]
        let out = x.linear(weight: w, bias: bias?.value)
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return tape.record("linear (learnable)", value: out, inputs: inputs) { g, needs in
            var grads: [Tensor?] = [needs[0] ? Tensor.linearBackwardInput(g, weight: w) : nil,
                                    needs[1] ? Tensor.linearBackwardWeight(g, input: x) : nil]
            if needs.count > 2 { grads.append(needs[2] ? g.sumLeadingDimensions(to: [n]) : nil) }
            return grads
        }
    }

    /// x[..., k] · P[k, n] with a constant P (e.g. `text_projection`): dx = dy · Pᵀ.
    public func matmul(_ p: Tensor) -> Variable {
        unary("matmul constant", value.matmul(p)) { g in
            let k = p.shape[0], n = p.shape[1], m = g.count / max(n, 1)
            let dx = Tensor(uninitialized: Array(g.shape.dropLast()) + [k])
            BLAS.gemm(transB: true, m: m, n: k, k: n, a: g.data, b: p.data, c: dx.mutableData)
            return dx
        }
    }

    /// 2-D product a[m, k] · b[k, n], or a · bᵀ for b[n, k] with `transposeB` (e.g. image features · text featuresᵀ).
    /// Either side may be constant.
    public func matmul(_ b: Variable, transposeB: Bool = false) -> Variable {
        precondition(rank == 2 && b.rank == 2, "matmul: \(shape) x \(b.shape)")
        let av = value, bv = b.value
        let m = av.shape[0], k = av.shape[1]
        let n = transposeB ? bv.shape[0] : bv.shape[1]
        precondition((transposeB ? bv.shape[1] : bv.shape[0]) == k, "matmul: \(shape) x \(b.shape) transposeB \(transposeB)")
        let out = Tensor(uninitialized: [m, n])
        BLAS.gemm(transB: transposeB, m: m, n: n, k: k, a: av.data, b: bv.data, c: out.mutableData)
        return tape.record("matmul", value: out, inputs: [self, b]) { g, needs in
            var da: Tensor?, db: Tensor?
            if needs[0] {  // dA = G · Bᵀ  (or G · B when B was transposed)
                let t = Tensor(uninitialized: [m, k])
                BLAS.gemm(transB: !transposeB, m: m, n: k, k: n, a: g.data, b: bv.data, c: t.mutableData)
                da = t
            }
            if needs[1] {
                if transposeB {  // dB[n, k] = Gᵀ · A
                    let t = Tensor(uninitialized: [n, k])
                    BLAS.gemm(transA: true, m: n, n: k, k: m, a: g.data, b: av.data, c: t.mutableData)
                    db = t
                } else {         // dB[k, n] = Aᵀ · G
                    let t = Tensor(uninitialized: [k, n])
                    BLAS.gemm(transA: true, m: k, n: n, k: m, a: av.data, b: g.data, c: t.mutableData)
                    db = t
                }
            }
            return [da, db]
        }
    }
}
