/// Both GEMM libraries timed side by side on the products ClipAD issues, and how close a rule's pick comes to the
/// faster one. `clipad bench sgemm --libraries` prints it, so the built-in choice (`GEMMLibrary.preferred`, measured
/// on a few CPUs) can be checked on the machine at hand instead of trusted.
public enum GEMMComparison {
    /// One product C[m, n] = A[m, k] · op(B) as ClipAD issues it: B untransposed (the linear layers' input-major
    /// weights, attention's P·V) or transposed (attention scores); on all product threads (the linear layers, rows
    /// split from `BLAS.splitRows` as `LinearWeight` does) or on one (attention heads run inside ClipAD's own
    /// parallel loop). Leading dimensions as the caller strides them (attention reads q, k and v out of the packed
    /// qkv rows); nil means packed.
    public struct Product: Sendable, Equatable {
        public var m: Int, n: Int, k: Int
        public var transposedB: Bool
        public var singleThread: Bool
        public var lda: Int?, ldb: Int?, ldc: Int?
        /// What the product is, e.g. "c_fc" or "attention scores".
        public var label: String

        public init(m: Int, n: Int, k: Int, transposedB: Bool = false, singleThread: Bool = false,
                    lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, label: String) {
            self.m = m; self.n = n; self.k = k
            self.transposedB = transposedB
            self.singleThread = singleThread
            self.lda = lda; self.ldb = ldb; self.ldc = ldc
            self.label = label
        }

        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
        var stridedA: Int { lda ?? k }
        var stridedB: Int { ldb ?? (transposedB ? k : n) }
        var stridedC: Int { ldc ?? n }
        /// "197x3072x768" (M x N x K).
        public var shape: String { "\(m)x\(n)x\(k)" }
    }

    /// Median seconds of one product on each library.
    public struct Timing: Sendable {
        public var product: Product
        public var openBLAS: Double
        public var oneDNN: Double

        public init(product: Product, openBLAS: Double, oneDNN: Double) {
            self.product = product
            self.openBLAS = openBLAS
            self.oneDNN = oneDNN
        }

        public func seconds(_ library: GEMMLibrary) -> Double { library == .oneDNN ? oneDNN : openBLAS }
        public func gflops(_ library: GEMMLibrary) -> Double { product.flops / seconds(library) / 1e9 }
        public var best: Double { min(openBLAS, oneDNN) }
        public var faster: GEMMLibrary { oneDNN < openBLAS ? .oneDNN : .openBLAS }
    }

    /// Why the libraries cannot be compared here.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Times `product` on OpenBLAS and on oneDNN, alternating one run of each `runs` times after a warm-up of each,
    /// so both see the same minutes of a shared machine. Throws when oneDNN cannot be loaded.
    public static func measure(_ product: Product, runs: Int) throws(Unavailable) -> Timing {
        if case .failure(let failure) = GEMMLibrary.oneDNNForComparison {
            throw Unavailable(description: "oneDNN is not available (\(failure.reason)); install libdnnl2 to compare the libraries")
        }
        let p = product
        let rowsB = p.transposedB ? p.n : p.k
        var rng = SeededGenerator(seed: 5)
        let a = Tensor.randomNormal([(p.m - 1) * p.stridedA + p.k], std: 1, using: &rng)
        let b = Tensor.randomNormal([(rowsB - 1) * p.stridedB + (p.transposedB ? p.k : p.n)], std: 1, using: &rng)
        let c = Tensor(zeros: [(p.m - 1) * p.stridedC + p.n])
        func run(_ library: GEMMLibrary) -> Double {
            Benchmark.seconds {
                if p.singleThread {
                    BLAS.singleThreaded {
                        BLAS.product(on: GEMMLibrary.loaded(library), transA: false, transB: p.transposedB,
                                     m: p.m, n: p.n, k: p.k, alpha: 1, a: a.data, lda: p.stridedA,
                                     b: b.data, ldb: p.stridedB, beta: 0, c: c.mutableData, ldc: p.stridedC)
                    }
                } else {
                    BLAS.gemmSplittingRows(transB: p.transposedB, m: p.m, n: p.n, k: p.k, a: a.data, b: b.data,
                                           c: c.mutableData, on: library)
                }
            }
        }
        _ = run(.openBLAS); _ = run(.oneDNN)
        var openBLAS: [Double] = [], oneDNN: [Double] = []
        for _ in 0..<max(runs, 1) {
            openBLAS.append(run(.openBLAS))
            oneDNN.append(run(.oneDNN))
        }
        return Timing(product: product, openBLAS: Benchmark.median(openBLAS), oneDNN: Benchmark.median(oneDNN))
    }

    /// A workload's products with how often one forward issues each (per image batch).
    public struct Workload: Sendable {
        public var name: String
        public var products: [(product: Product, count: Int)]

        public init(name: String, products: [(product: Product, count: Int)]) {
            self.name = name
            self.products = products
        }
    }

    /// A workload's GEMM seconds under a choice of library per product, from its products' timings.
    public static func seconds(of workload: Workload, timings: [Timing],
                               choosing pick: (Timing) -> GEMMLibrary) -> Double {
        workload.products.reduce(0) { sum, entry in
            guard let timing = timings.first(where: { $0.product == entry.product }) else { return sum }
            return sum + Double(entry.count) * timing.seconds(pick(timing))
        }
    }

    /// The library `choice` gives a product in a process that made that choice.
    public static func pick(_ choice: GEMMLibrary.Choice, for product: Product) -> GEMMLibrary {
        (product.transposedB ? choice.transposed : choice.untransposed).library(forRows: product.m)
    }
}
