/// Nearest-neighbour distances to a memory bank of features (PromptAD's visual score, WinCLIP+'s
/// visual association score).
extension Tensor {
    /// For each row of `self` [N, D], the smallest `(1 - cos) / 2` to any row of `bank` [M, D], where both hold
    /// L2-normalised rows, so cos is their dot product (as the official codes compute it). Returns [N].
    /// The bank is visited in blocks so the [N, block] similarity matrix stays small whatever M is.
    public func minCosineDistance(to bank: Tensor, blockRows: Int = 4096) -> Tensor {
        precondition(rank == 2 && bank.rank == 2 && shape[1] == bank.shape[1],
                     "minCosineDistance: queries \(shape), bank \(bank.shape)")
        let n = shape[0], m = bank.shape[0], d = shape[1]
        var best = [Float](repeating: -.infinity, count: n)
        let block = Swift.max(1, Swift.min(blockRows, m))
        let similarities = Tensor(uninitialized: [n, block])
        var start = 0
        while start < m {
            let rows = Swift.min(block, m - start)
            // similarities[n, rows] = self · bank[start..<start+rows]ᵀ
            BLAS.gemm(transB: true, m: n, n: rows, k: d, a: data, b: bank.data + start * d, c: similarities.mutableData)
            let s = similarities.data
            for i in 0..<n {
                var v = best[i]
                for j in 0..<rows where s[i * rows + j] > v { v = s[i * rows + j] }
                best[i] = v
            }
            start += rows
        }
        return Tensor(shape: [n], scalars: best.map { (1 - $0) / 2 })
    }
}
