import Foundation
import XCTest
@testable import Tensor

/// The GEMM library decision (CPU kind + installed oneDNN + the user's CLIPAD_GEMM -> library), that the process
/// honours the choice it reports, and that oneDNN's products equal OpenBLAS's on every call shape ClipAD issues.
final class GEMMLibraryTests: XCTestCase {
    static let avx512 = KernelSelectionTests.avx512
    static let avx2 = KernelSelectionTests.avx2
    static let avx = KernelSelectionTests.avx

    func testChoiceTable() {
        let loadError = "libdnnl.so.2: cannot open shared object file"
        typealias ByRows = GEMMLibrary.ByRows
        let textTowersOnOneDNN = ByRows(.oneDNN, below: GEMMLibrary.textRows, .openBLAS)
        let mixed = GEMMLibrary.Choice(untransposed: textTowersOnOneDNN, transposed: textTowersOnOneDNN)
        let avx512Choice = GEMMLibrary.Choice(untransposed: .all(.oneDNN),
                                              transposed: ByRows(.openBLAS, below: GEMMLibrary.largeRows, .oneDNN))
        let cases: [(requested: String?, failure: String?, isX86: Bool, features: CPUFeatures,
                     expected: GEMMLibrary.Choice?, line: UInt)] = [
            // Left to ClipAD: what was measured faster on that kind of CPU, where oneDNN is installed.
            (nil, nil, true, Self.avx512, avx512Choice, #line),
            ("AUTO", nil, true, Self.avx512, avx512Choice, #line),
            ("", nil, true, Self.avx512, avx512Choice, #line),
            (nil, nil, true, Self.avx2, mixed, #line),
            ("auto", nil, true, Self.avx2, mixed, #line),
            // AVX-512F alone (Knights Landing) is not the AVX-512 that was measured.
            (nil, nil, true, Self.avx2.union(.avx512f), mixed, #line),
            // ... OpenBLAS where oneDNN is absent, and where it was never measured.
            (nil, loadError, true, Self.avx512, .all(.openBLAS), #line),
            (nil, loadError, true, Self.avx2, .all(.openBLAS), #line),
            (nil, nil, true, Self.avx, .all(.openBLAS), #line),
            (nil, nil, true, Self.avx2.subtracting(.fma), .all(.openBLAS), #line),
            (nil, nil, false, [], .all(.openBLAS), #line),
            // The user's choice wins for every product, in any spelling; an impossible one is an error, not a
            // silent fallback.
            ("openblas", nil, true, Self.avx512, .all(.openBLAS), #line),
            ("OpenBLAS", nil, true, Self.avx2, .all(.openBLAS), #line),
            ("onednn", nil, false, [], .all(.oneDNN), #line),
            ("oneDNN", nil, true, Self.avx2, .all(.oneDNN), #line),
            ("onednn", loadError, true, Self.avx512, nil, #line),
            ("mkl", nil, true, Self.avx512, nil, #line),
        ]
        for c in cases {
            let got = GEMMLibrary.choose(requested: c.requested, oneDNNFailure: c.failure, isX86: c.isX86,
                                         features: c.features)
            switch (got, c.expected) {
            case (.success(let choice), let expected?):
                XCTAssertEqual(choice, expected, line: c.line)
            case (.failure(let error), nil):
                XCTAssertTrue(error.description.hasPrefix("CLIPAD_GEMM="), error.description, line: c.line)
                XCTAssertFalse(error.description.contains("\n"), line: c.line)
            default:
                XCTFail("\(c): got \(got)", line: c.line)
            }
        }
        XCTAssertEqual(mixed.description, "oneDNN below 128 rows, OpenBLAS from 128")
        XCTAssertEqual(GEMMLibrary.Choice(untransposed: textTowersOnOneDNN,
                                          transposed: ByRows(.oneDNN, below: 1280, .openBLAS)).description,
                       "oneDNN below 128 rows, OpenBLAS from 128 with B untransposed (linear layers); oneDNN below "
                       + "1280 rows, OpenBLAS from 1280 with B transposed")
        XCTAssertEqual(avx512Choice.description, "oneDNN with B untransposed (linear layers); OpenBLAS below 1280 rows, "
                       + "oneDNN from 1280 with B transposed")
        let sameRule = ByRows(.oneDNN, below: 1280, .openBLAS)
        XCTAssertEqual(GEMMLibrary.Choice(untransposed: sameRule, transposed: sameRule).description,
                       "oneDNN below 1280 rows, OpenBLAS from 1280")
        // One library on both sides of a split is that library everywhere, whatever the split.
        XCTAssertEqual(ByRows(.openBLAS, below: 128, .openBLAS), .all(.openBLAS))
        XCTAssertNotEqual(ByRows(.oneDNN, below: 128, .openBLAS), ByRows(.oneDNN, below: 1280, .openBLAS))
        XCTAssertEqual(sameRule.library(forRows: 1279), .oneDNN)
        XCTAssertEqual(sameRule.library(forRows: 1280), .openBLAS)
        XCTAssertEqual(GEMMLibrary.Choice.all(.openBLAS).description, "OpenBLAS")
    }

    func testUnloadableLibraryIsOneLineReason() {
        guard case .failure(let failure) = OneDNN.load("libclipad-no-such-library.so.9") else {
            return XCTFail("a library that does not exist loaded")
        }
        XCTAssertTrue(failure.reason.contains("libclipad-no-such-library.so.9"), failure.reason)
        XCTAssertFalse(failure.reason.contains("\n"))
    }

    /// The process uses what CLIPAD_GEMM names (`make test` runs the numeric tests once more with the other
    /// library), and the summary says so: a second pass cannot silently run on the default.
    func testProcessHonoursTheEnvironment() {
        XCTAssertNil(GEMMLibrary.selectionError, GEMMLibrary.summary)
        let active = GEMMLibrary.active
        if let requested = ProcessInfo.processInfo.environment[GEMMLibrary.variable], requested != "auto" {
            XCTAssertEqual(active, .all(GEMMLibrary(rawValue: requested.lowercased())!), GEMMLibrary.summary)
        }
        // The routing BLAS.gemm uses agrees with what is reported, on both sides of each split, B transposed or not.
        for transposedB in [true, false] {
            let rule = transposedB ? active.transposed : active.untransposed
            for rows in [1, GEMMLibrary.textRows - 1, GEMMLibrary.textRows, GEMMLibrary.largeRows - 1,
                         GEMMLibrary.largeRows] {
                XCTAssertEqual(GEMMLibrary.library(forRows: rows, transposedB: transposedB),
                               rule.library(forRows: rows), "\(rows) rows, B transposed: \(transposedB)")
            }
        }
        // The summary names the linear layers' library for their smallest products first.
        let first = active.untransposed.library(forRows: 1)
        XCTAssertTrue(GEMMLibrary.summary.hasPrefix("GEMM \(first == .oneDNN ? "oneDNN " : "OpenBLAS")"),
                      GEMMLibrary.summary)
    }

    /// On the machines `make test` runs on (x86-64 with AVX2, libdnnl2 installed by scripts/bootstrap) the default
    /// is oneDNN: a missing library must fail here rather than leave the oneDNN path untested.
    func testOneDNNIsInstalledWhereItIsPreferred() throws {
        guard GEMMLibrary.preferred(isX86: true, features: .current).usesOneDNN else {
            throw XCTSkip("not an x86-64 CPU with AVX2+FMA: OpenBLAS is the only library here")
        }
        if case .failure(let failure) = OneDNN.load() {
            XCTFail("\(failure.reason): scripts/bootstrap installs libdnnl2")
        }
    }

    /// Every call shape `BLAS.gemm` receives (transposes, leading dimensions wider than the matrix, alpha, beta,
    /// empty and one-row products), oneDNN against OpenBLAS on the same inputs, on 1 and on all threads.
    func testOneDNNEqualsOpenBLASOnEveryCallShape() throws {
        guard case .success(let oneDNN) = OneDNN.load() else { throw XCTSkip("oneDNN not installed") }
        struct Shape { let m, n, k: Int; let transA, transB: Bool; let pad: Int; let alpha, beta: Float }
        let shapes = [
            Shape(m: 197, n: 768, k: 768, transA: false, transB: true, pad: 0, alpha: 1, beta: 0),      // linear
            Shape(m: 197, n: 197, k: 64, transA: false, transB: true, pad: 2240, alpha: 0.125, beta: 0), // Q·Kᵀ
            Shape(m: 197, n: 64, k: 197, transA: false, transB: false, pad: 7, alpha: 1, beta: 0),     // P·V
            Shape(m: 50, n: 33, k: 70, transA: true, transB: false, pad: 3, alpha: 1, beta: 0),        // weight grad
            Shape(m: 31, n: 17, k: 9, transA: true, transB: true, pad: 1, alpha: -0.5, beta: 1),        // residual add
            Shape(m: 1, n: 512, k: 768, transA: false, transB: true, pad: 0, alpha: 1, beta: 1),
            Shape(m: 1290, n: 3, k: 5, transA: false, transB: false, pad: 0, alpha: 2, beta: 0.5),
            Shape(m: 0, n: 4, k: 4, transA: false, transB: false, pad: 0, alpha: 1, beta: 0),
            Shape(m: 4, n: 4, k: 0, transA: false, transB: false, pad: 0, alpha: 1, beta: 1),
        ]
        var rng = SeededGenerator(seed: 11)
        for s in shapes {
            let (aRows, aCols) = s.transA ? (s.k, s.m) : (s.m, s.k)
            let (bRows, bCols) = s.transB ? (s.n, s.k) : (s.k, s.n)
            let lda = max(1, aCols + s.pad), ldb = max(1, bCols + s.pad), ldc = max(1, s.n + s.pad)
            let a = (0..<(aRows * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(bRows * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
            let c0 = (0..<(max(s.m, 1) * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
            for threads in [1, BLAS.threads] {
                var viaOpenBLAS = c0, viaOneDNN = c0
                viaOpenBLAS.withUnsafeMutableBufferPointer { c in
                    BLAS.singleThreaded {
                        BLAS.openBLASGemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: s.alpha,
                                          a: a, lda: lda, b: b, ldb: ldb, beta: s.beta, c: c.baseAddress!, ldc: ldc)
                    }
                }
                let accepted = viaOneDNN.withUnsafeMutableBufferPointer { c in
                    oneDNN.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: s.alpha, a: a,
                                lda: lda, b: b, ldb: ldb, beta: s.beta, c: c.baseAddress!, ldc: ldc, threads: threads)
                }
                XCTAssertTrue(accepted, "\(s): oneDNN refused the arguments")
                // The rounding bound of a sum of k products, per element: |error| <= c·eps·Σ|α·a·b| + |β·c|.
                var scale = c0.map { abs(s.beta * $0) }
                let absA = a.map(abs), absB = b.map(abs)
                scale.withUnsafeMutableBufferPointer { c in
                    BLAS.openBLASGemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: abs(s.alpha),
                                      a: absA, lda: lda, b: absB, ldb: ldb, beta: 1, c: c.baseAddress!, ldc: ldc)
                }
                var worst: Float = 0
                for i in 0..<viaOpenBLAS.count {
                    let d = abs(viaOpenBLAS[i] - viaOneDNN[i])
                    // NaN must fail: `d > worst` is false for NaN, so check it on its own.
                    if d.isNaN || viaOneDNN[i].isNaN { return XCTFail("\(s): NaN at \(i)") }
                    worst = max(worst, d / max(scale[i], .leastNormalMagnitude))
                }
                XCTAssertLessThan(worst, 32 * Float.ulpOfOne, "\(s), \(threads) threads")
                // The padding columns of C beyond n are not the product's: neither library may write them.
                for row in 0..<s.m where s.pad > 0 {
                    for col in s.n..<ldc {
                        XCTAssertEqual(viaOneDNN[row * ldc + col], c0[row * ldc + col], "\(s): wrote padding")
                    }
                }
            }
        }
    }
}
