import XCTest
@testable import Tensor

/// `GEMMComparison`: a product pinned to either library computes the product, both libraries get timed, a choice
/// picks per layout and row count as the process does, and a workload's GEMM time adds its products' counts.
final class GEMMComparisonTests: XCTestCase {
    typealias Product = GEMMComparison.Product

    /// Pinned to either library, on all threads (with the row split from `BLAS.splitRows`) or one, with the strides
    /// attention uses: the loops' product, to rounding.
    func testPinnedProductsComputeTheProduct() throws {
        guard case .success = GEMMLibrary.oneDNNForComparison else { throw XCTSkip("oneDNN not installed") }
        var rng = SeededGenerator(seed: 9)
        for (m, n, k, transB) in [(7, 5, 3, false), (BLAS.splitRows + 3, 9, 4, false), (6, 4, 5, true), (BLAS.splitRows, 3, 2, true)] {
            let a = Tensor.randomNormal([m, k], std: 1, using: &rng)
            let b = Tensor.randomNormal(transB ? [n, k] : [k, n], std: 1, using: &rng)
            for library in GEMMLibrary.allCases {
                let c = Tensor(zeros: [m, n])
                BLAS.gemmSplittingRows(transB: transB, m: m, n: n, k: k, a: a.data, b: b.data, c: c.mutableData, on: library)
                for i in 0..<m {
                    for j in 0..<n {
                        var want: Float = 0
                        for p in 0..<k { want += a.data[i * k + p] * (transB ? b.data[j * k + p] : b.data[p * n + j]) }
                        XCTAssertEqual(c.data[i * n + j], want, accuracy: 1e-4, "\(library) \(m)x\(n)x\(k) transB \(transB) [\(i), \(j)]")
                    }
                }
            }
        }
    }

    func testMeasureTimesBothLibraries() throws {
        guard case .success = GEMMLibrary.oneDNNForComparison else { throw XCTSkip("oneDNN not installed") }
        for product in [Product(m: 33, n: 40, k: 16, label: "linear"),
                        Product(m: 20, n: 20, k: 8, transposedB: true, singleThread: true, lda: 24, ldb: 24, ldc: 20, label: "scores")] {
            let t = try GEMMComparison.measure(product, runs: 3)
            for s in [t.openBLAS, t.oneDNN] { XCTAssertTrue(s.isFinite && s > 0, "\(product.label): \(s) s") }
            XCTAssertEqual(t.best, min(t.openBLAS, t.oneDNN))
            XCTAssertEqual(t.seconds(t.faster), t.best)
        }
    }

    func testChoicePicksByLayoutAndRows() {
        let choice = GEMMLibrary.Choice(untransposed: .init(.oneDNN, below: 128, .openBLAS),
                                        transposed: .init(.openBLAS, below: 1280, .oneDNN))
        let cases: [(Product, GEMMLibrary, UInt)] = [
            (Product(m: 34, n: 2304, k: 768, label: "qkv"), .oneDNN, #line),
            (Product(m: 128, n: 2304, k: 768, label: "qkv"), .openBLAS, #line),
            (Product(m: 197, n: 197, k: 64, transposedB: true, singleThread: true, label: "scores"), .openBLAS, #line),
            (Product(m: 1370, n: 1370, k: 64, transposedB: true, singleThread: true, label: "scores"), .oneDNN, #line),
        ]
        for (product, expected, line) in cases {
            XCTAssertEqual(GEMMComparison.pick(choice, for: product), expected, line: line)
        }
        XCTAssertEqual(GEMMComparison.pick(.all(.openBLAS), for: cases[0].0), .openBLAS)
    }

    func testWorkloadSecondsWeighProductsByCount() {
        let p = Product(m: 10, n: 10, k: 10, label: "p"), q = Product(m: 20, n: 10, k: 10, label: "q")
        let timings = [GEMMComparison.Timing(product: p, openBLAS: 1, oneDNN: 2),
                       GEMMComparison.Timing(product: q, openBLAS: 5, oneDNN: 3)]
        let workload = GEMMComparison.Workload(name: "w", products: [(p, 2), (q, 3)])
        XCTAssertEqual(GEMMComparison.seconds(of: workload, timings: timings) { _ in .openBLAS }, 2 * 1 + 3 * 5)
        XCTAssertEqual(GEMMComparison.seconds(of: workload, timings: timings) { $0.faster }, 2 * 1 + 3 * 3)
        XCTAssertEqual(timings[1].gflops(.oneDNN), 2 * 20 * 10 * 10 / 3 / 1e9, accuracy: 1e-15)
    }
}
