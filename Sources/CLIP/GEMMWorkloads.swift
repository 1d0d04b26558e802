import Tensor

/// The matrix products one forward pass of a CLIP tower issues, with their counts, for timing the GEMM libraries
/// against each other on exactly those shapes (`GEMMComparison`, `clipad bench sgemm --libraries`).
public enum GEMMWorkloads {
    /// A transformer tower of `layers` blocks of `width` (MLP 4x) over `batch` sequences of `tokens`: per block the
    /// four linear layers on batch x tokens rows (all product threads), and per head and sequence the attention
    /// scores q·kᵀ and the weighted sum P·V on one thread, strided inside the packed qkv rows as `Attention.head` reads them.
    public static func tower(name: String, tokens: Int, batch: Int, width: Int, heads: Int, layers: Int) -> GEMMComparison.Workload {
        let rows = batch * tokens, mlp = 4 * width, headDim = width / heads
        typealias Product = GEMMComparison.Product
        let linear: [Product] = [
            Product(m: rows, n: 3 * width, k: width, label: "qkv"),
            Product(m: rows, n: width, k: width, label: "out_proj"),
            Product(m: rows, n: mlp, k: width, label: "c_fc"),
            Product(m: rows, n: width, k: mlp, label: "c_proj"),
        ]
        let attention: [Product] = [
            Product(m: tokens, n: tokens, k: headDim, transposedB: true, singleThread: true,
                    lda: 3 * width, ldb: 3 * width, ldc: tokens, label: "attention scores, per head"),
            Product(m: tokens, n: headDim, k: tokens, singleThread: true,
                    lda: tokens, ldb: 3 * width, ldc: width, label: "attention P·V, per head"),
        ]
        return GEMMComparison.Workload(name: name, products: linear.map { ($0, layers) }
                                       + attention.map { ($0, layers * heads * batch) })
    }

    /// A bundled architecture's vision tower at `imageSize` (its own by default) and `batch`.
    public static func vision(_ architecture: String, imageSize: Int? = nil, batch: Int = 1) throws -> GEMMComparison.Workload {
        let v = try CLIPArchitecture.bundled(architecture).vision
        let size = imageSize ?? v.imageSize, grid = size / v.patchSize
        return tower(name: "\(architecture) vision @\(size) batch \(batch)", tokens: grid * grid + 1, batch: batch,
                     width: v.width, heads: v.heads, layers: v.layers)
    }

    /// A bundled architecture's text tower on one prompt of `tokens` (77, or fewer where prompts are cut at their
    /// end-of-text token as AnomalyCLIP's are).
    public static func text(_ architecture: String, tokens: Int) throws -> GEMMComparison.Workload {
        let t = try CLIPArchitecture.bundled(architecture).text
        return tower(name: "\(architecture) text, \(tokens) tokens", tokens: tokens, batch: 1, width: t.width,
                     heads: t.heads ?? CLIPArchitecture.heads(forWidth: t.width), layers: t.layers)
    }

    /// What `bench sgemm --libraries` times: the workloads of `bench encoder`, `bench anomalyclip` and `bench
    /// promptad`, from the smallest products to the largest.
    public static func benchmarked() throws -> [GEMMComparison.Workload] {
        [
            try text("ViT-L-14-336", tokens: 34),
            try text("ViT-B-16", tokens: 77),
            try vision("ViT-B-16"),
            try vision("ViT-B-16-plus-240"),
            try vision("ViT-L-14-336"),
            try vision("ViT-L-14-336", imageSize: 518),
            try vision("ViT-B-16", batch: 8),
            try vision("ViT-B-16-plus-240", batch: 8),
        ]
    }
}
