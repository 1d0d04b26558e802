import COpenBLAS

/// ClipAD's matrix products and their thread control. Every product goes through `gemm`, which hands it to the
/// process's `GEMMLibrary` (OpenBLAS or oneDNN); the thread count is OpenBLAS's setting, which a oneDNN call follows.
public enum BLAS {
    /// C[m,n] = alpha * op(A) * op(B) + beta * C, row-major. `lda`/`ldb`/`ldc` default to packed rows.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        product(on: GEMMLibrary.oneDNN(forRows: m, transposedB: transB), transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// One product on oneDNN when given, else (or when oneDNN refuses the arguments) on OpenBLAS.
    @inline(__always)
    static func product(on oneDNN: OneDNN?, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
                        c: UnsafeMutablePointer<Float>, ldc: Int) {
        if let oneDNN, oneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads) {
            return
        }
        openBLASGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc)
    }

    /// The product on OpenBLAS, whichever library is active (tests compare the two).
    @inline(__always)
    static func openBLASGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                             lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
                             ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// C[m,n] = A[m,k] · op(B) + beta·C like `gemm`, with the rows of A and C split between our own workers, each
    /// running a one-thread sgemm, when there are at least `splitRows` rows. Against OpenBLAS's own two-thread split
    /// (pthreads 0.3.21, 2 cores; benchmarks/RESULTS.md): with the host busy, 10–15% faster for the N <= 1024 products
    /// of a ViT block (its threads wait on each other when one core is taken away; ours do not); on a quiet host
    /// equal from ~1300 rows up, but slower below that (each worker packs all of B): 197 rows 170 vs 188 GFLOP/s,
    /// 1024 rows 175 vs 192. Inside `Parallel` (OpenBLAS at one thread) it is one plain call.
    public static let splitRows = 1280

    /// `library` pins the library (`GEMMComparison` times both); nil, the process's choice for these rows.
    public static func gemmSplittingRows(
        transB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
        b: UnsafePointer<Float>, beta: Float = 0, c: UnsafeMutablePointer<Float>, on library: GEMMLibrary? = nil
    ) {
        // The library is the one for the whole product's rows, not for a part's.
        let oneDNN = library.map(GEMMLibrary.loaded) ?? GEMMLibrary.oneDNN(forRows: m, transposedB: transB)
        let workers = min(Parallel.workers, threads)
        guard workers > 1, m >= splitRows else {
            product(on: oneDNN, transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                    b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
            return
        }
        Parallel.forEachChunk(workers) { parts in
            for part in parts {
                let lo = m * part / workers, hi = m * (part + 1) / workers
                product(on: oneDNN, transA: false, transB: transB, m: hi - lo, n: n, k: k, alpha: 1, a: a + lo * k,
                        lda: k, b: b, ldb: transB ? k : n, beta: beta, c: c + lo * n, ldc: n)
            }
        }
    }

    /// Number of threads one product uses (OpenBLAS's setting; oneDNN calls are given the same).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// Runs `body` with OpenBLAS limited to one thread (inside our own parallel loops), then restores it.
    /// The setting is process-wide: callers that may run concurrently enter through `ExecutionContext.run`.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = threads
        if previous != 1 { threads = 1 }
        defer { if previous != 1 { threads = previous } }
        return try body()
    }
}
