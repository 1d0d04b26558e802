import XCTest

/// `clipad bench sgemm --libraries`: both libraries timed on a product, the process's choice judged against the
/// faster one, and the exit status saying whether the choice held.
final class BenchSGEMMLibrariesTests: XCTestCase {
    func testOneProductOnBothLibraries() throws {
        for pinned in ["auto", "openblas"] {
            let r = try CLIRunner.run(["bench", "sgemm", "--libraries", "--m", "48", "--n", "40", "--k", "32", "--runs", "3"],
                                      environment: ["CLIPAD_GEMM": pinned], timeout: 120)
            if r.stderr.contains("oneDNN is not available") {
                XCTAssertEqual(r.status, 1, r.stderr)
                throw XCTSkip("oneDNN not installed: \(r.stderr)")
            }
            let lines = r.stdout.split(separator: "\n").map(String.init)
            let product = try XCTUnwrap(lines.first { $0.contains("48x40x32") && $0.contains("pick") }, r.stdout)
            XCTAssertTrue(product.contains("OpenBLAS") && product.contains("oneDNN") && product.contains("GFLOP/s"), product)
            XCTAssertTrue(lines.contains { $0.contains("GEMM per forward:") }, r.stdout)
            let summary = try XCTUnwrap(lines.last, r.stdout)
            XCTAssertTrue(summary.hasPrefix("GEMM choice ("), summary)
            if pinned == "openblas" { XCTAssertTrue(summary.hasPrefix("GEMM choice (OpenBLAS):"), summary) }
            // Exit 0 exactly when the choice held on the product; a miss names it and fails the command.
            XCTAssertEqual(r.status, summary.contains("beyond it") ? 1 : 0, r.stdout + r.stderr)
        }
    }
}
