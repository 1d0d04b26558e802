import XCTest

/// `clipad bench sgemm --libraries`: both libraries timed on a product and the process's choice judged against them.
final class BenchSGEMMLibrariesTests: XCTestCase {
    func testOneProductOnBothLibraries() throws {
        for pinned in ["auto", "openblas"] {
            let r = try CLIRunner.run(["bench", "sgemm", "--libraries", "--m", "48", "--n", "40", "--k", "32", "--runs", "3"],
                                      environment: ["CLIPAD_GEMM": pinned], timeout: 120)
            if r.stderr.contains("oneDNN is not available") {
                XCTAssertNotEqual(r.status, 0, r.stderr)
                throw XCTSkip("oneDNN not installed: \(r.stderr)")
            }
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            let product = try XCTUnwrap(lines.first { $0.contains("48x40x32") && $0.contains("pick") }, r.stdout)
            XCTAssertTrue(product.contains("OpenBLAS") && product.contains("oneDNN") && product.contains("GFLOP/s"), product)
            XCTAssertTrue(lines.contains { $0.contains("GEMM per forward:") }, r.stdout)
            let summary = try XCTUnwrap(lines.last, r.stdout)
            XCTAssertTrue(summary.hasPrefix("GEMM choice ("), summary)
            if pinned == "openblas" { XCTAssertTrue(summary.hasPrefix("GEMM choice (OpenBLAS):"), summary) }
            XCTAssertTrue(summary.contains("of the faster library alone on"), summary)
        }
    }
}
