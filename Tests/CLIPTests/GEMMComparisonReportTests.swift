import XCTest
@testable import CLIP
import Tensor

/// The products a tower issues (`GEMMWorkloads`) and what the comparison report concludes from timings.
final class GEMMComparisonReportTests: XCTestCase {
    func testViTB16ProductsAndCounts() throws {
        let w = try GEMMWorkloads.vision("ViT-B-16", batch: 8)
        XCTAssertEqual(w.name, "ViT-B-16 vision @224 batch 8")
        let shapes = w.products.map { "\($0.product.label) \($0.product.shape) x\($0.count)" }
        XCTAssertEqual(shapes, ["qkv 1576x2304x768 x12", "out_proj 1576x768x768 x12", "c_fc 1576x3072x768 x12",
                                "c_proj 1576x768x3072 x12", "attention scores, per head 197x197x64 x1152",
                                "attention P·V, per head 197x64x197 x1152"])
        let scores = w.products[4].product
        XCTAssertTrue(scores.transposedB && scores.singleThread)
        XCTAssertEqual([scores.lda, scores.ldb, scores.ldc], [2304, 2304, 197])
        // Per forward, the products add up to the encoder's block FLOPs (EncoderFLOPs.block: linear + 2·2·T²·W).
        let flops = w.products.reduce(0.0) { $0 + $1.product.flops * Double($1.count) }
        XCTAssertEqual(flops, 8 * 12 * EncoderFLOPs.block(tokens: 197, width: 768, mlp: 3072), accuracy: 1)

        let text = try GEMMWorkloads.text("ViT-L-14-336", tokens: 34)
        XCTAssertEqual(text.products.map { "\($0.product.shape) x\($0.count)" },
                       ["34x2304x768 x12", "34x768x768 x12", "34x3072x768 x12", "34x768x3072 x12",
                        "34x34x64 x144", "34x64x34 x144"])
        XCTAssertEqual(try GEMMWorkloads.benchmarked().count, 8)
    }

    /// A choice that puts a workload's products on the slower library is flagged against the faster library alone;
    /// one within 5% of it is not, and the faster library per product is reported beside it.
    func testReportFlagsAChoiceBeyondFivePercent() {
        typealias Product = GEMMComparison.Product
        let small = Product(m: 34, n: 768, k: 768, label: "out_proj"), large = Product(m: 1576, n: 768, k: 768, label: "out_proj")
        let heads = Product(m: 1576, n: 1576, k: 64, transposedB: true, singleThread: true, label: "attention scores, per head")
        let timings = [GEMMComparison.Timing(product: small, openBLAS: 1.0, oneDNN: 0.5),
                       GEMMComparison.Timing(product: large, openBLAS: 10.0, oneDNN: 10.25),
                       GEMMComparison.Timing(product: heads, openBLAS: 2.0, oneDNN: 1.0)]
        let workloads = [GEMMComparison.Workload(name: "text", products: [(small, 12)]),
                         GEMMComparison.Workload(name: "vision", products: [(large, 12), (heads, 1)])]
        var report = GEMMComparisonReport(workloads: workloads, timings: timings, choice: .all(.openBLAS))
        XCTAssertEqual(report.cost(of: workloads[0]), .init(choice: 12, best: 6, openBLAS: 12, oneDNN: 6))
        XCTAssertEqual(report.cost(of: workloads[1]), .init(choice: 122, best: 121, openBLAS: 122, oneDNN: 124))
        XCTAssertEqual(report.workloadsBeyondTolerance.map(\.name), ["text"])
        XCTAssertEqual(report.summary, "GEMM choice (OpenBLAS): GEMM time within 5% of the faster library alone on 1 of 2 workloads; beyond it: text (2.00x)")

        let byRows = GEMMLibrary.ByRows(.oneDNN, below: 128, .openBLAS)
        report.choice = GEMMLibrary.Choice(untransposed: byRows, transposed: byRows)
        XCTAssertTrue(report.workloadsBeyondTolerance.isEmpty)
        XCTAssertEqual(report.summary, "GEMM choice (oneDNN below 128 rows, OpenBLAS from 128): GEMM time within 5% of the faster library alone on all 2 workloads")
        let lines = report.lines
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(lines[1].contains("pick oneDNN 1.00"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix("as chosen; OpenBLAS alone 2.00x that, oneDNN alone 1.00x, the faster library per product 1.00x"), lines[2])
        XCTAssertTrue(lines[4].contains("pick OpenBLAS 1.00"), lines[4])
        XCTAssertTrue(lines[5].contains("B transposed") && lines[5].contains("1 thread ") && lines[5].contains("pick OpenBLAS 2.00"), lines[5])
        XCTAssertTrue(lines[6].hasSuffix("the faster library per product 0.99x"), lines[6])
    }
}
