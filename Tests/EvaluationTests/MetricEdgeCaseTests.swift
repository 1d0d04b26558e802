import Foundation
import XCTest

@testable import Evaluation

/// Degenerate and hostile inputs, and properties the reference fixtures do not pin down.
final class MetricEdgeCaseTests: XCTestCase {
    func testSingleClassIsAnError() throws {
        XCTAssertThrowsError(try AUROC.compute(scores: [0.1, 0.2], labels: [true, true])) {
            XCTAssertEqual($0 as? MetricError, .missingClass(metric: "AUROC", positives: 2, negatives: 0))
        }
        XCTAssertThrowsError(try AveragePrecision.compute(scores: [0.1, 0.2], labels: [false, false]))
        XCTAssertThrowsError(try F1Max.compute(scores: [0.1], labels: [false]))
        // sklearn: AP and F1 are 1 with positives only.
        XCTAssertEqual(try AveragePrecision.compute(scores: [0.1, 0.2], labels: [true, true]), 1)
        XCTAssertEqual(try F1Max.compute(scores: [0.1, 0.2], labels: [true, true]), 1)
        let normal = try PixelSample(width: 2, height: 1, scores: [0, 1], mask: nil)
        XCTAssertThrowsError(try PixelMetrics.compute([normal])) {
            XCTAssertEqual($0 as? MetricError, .missingClass(metric: "pixel AUROC", positives: 0, negatives: 2))
        }
        XCTAssertThrowsError(try AUPRO.compute([normal])) { XCTAssertEqual($0 as? MetricError, .noDefectRegions) }
        let allDefect = try PixelSample(width: 2, height: 1, scores: [0, 1], mask: [1, 1])
        XCTAssertThrowsError(try AUPRO.compute([allDefect])) { XCTAssertEqual($0 as? MetricError, .noNormalPixels) }
        let flat = try PixelSample(width: 2, height: 1, scores: [0.5, 0.5], mask: [1, 0])
        XCTAssertThrowsError(try AUPRO.anomalyCLIP([flat])) { XCTAssertTrue("\($0)".contains("all anomaly scores equal")) }
    }

    func testBadInputsAreErrors() throws {
        XCTAssertThrowsError(try AUROC.compute(scores: [0.1], labels: [true, false])) {
            XCTAssertEqual("\($0)", "AUROC: 1 scores but 2 labels")
        }
        XCTAssertThrowsError(try AUROC.compute(scores: [], labels: []))
        XCTAssertThrowsError(try AUROC.compute(scores: [.nan, 1], labels: [true, false])) {
            XCTAssertEqual("\($0)", "AUROC: score 0 is nan; scores must be finite")
        }
        XCTAssertThrowsError(try PixelSample(width: 3, height: 2, scores: [0, 1], mask: nil))
        XCTAssertThrowsError(try PixelSample(width: 1, height: 2, scores: [0, 1], mask: [1]))
        XCTAssertThrowsError(try PixelSample(width: Int.max, height: 2, scores: [0, 1], mask: nil))
        let ok = try PixelSample(width: 2, height: 1, scores: [0, 1], mask: [1, 0])
        let bad = try PixelSample(width: 2, height: 1, scores: [0, .infinity], mask: [1, 0])
        XCTAssertThrowsError(try PixelMetrics.compute([ok, bad])) {
            XCTAssertEqual("\($0)", "map 1: score 1 is inf; scores must be finite")
        }
        XCTAssertThrowsError(try PixelMetrics.compute([ok], fprLimit: 0))
        XCTAssertThrowsError(try PixelMetrics.compute([]))
    }

    /// A perfect map gives AUPRO 1; an inverted one 0 (curve flat at PRO 0 until FPR 1).
    func testAUPROExtremes() throws {
        var rng = SystemRandomNumberGenerator()
        var mask = [UInt8](repeating: 0, count: 400)
        for i in 0..<400 where (i / 20 - 10) * (i / 20 - 10) + (i % 20 - 8) * (i % 20 - 8) < 20 { mask[i] = 1 }
        let scores = mask.map { Float($0) + Float.random(in: 0..<0.5, using: &rng) }
        let perfect = try PixelSample(width: 20, height: 20, scores: scores, mask: mask)
        XCTAssertEqual(try AUPRO.compute([perfect]), 1, accuracy: 1e-12)
        XCTAssertEqual(try PixelMetrics.compute([perfect]).auroc, 1)
        let inverted = try PixelSample(width: 20, height: 20, scores: scores.map { -$0 }, mask: mask)
        XCTAssertEqual(try AUPRO.compute([inverted]), 0, accuracy: 1e-12)
    }

    /// Exact ties across maps and buckets: the pixel sweep equals the image-level grouping on the same pixels,
    /// with large buckets (counting pass) and small ones.
    func testPixelSweepEqualsPlainSort() throws {
        var g = SplitMix(seed: 7)
        var samples = [PixelSample]()
        for k in 0..<5 {
            let w = 60 + k, h = 50
            let scores = (0..<(w * h)).map { _ in Float(Int(g.next() % 300)) / 256 }  // heavy ties, few buckets
            let mask = (0..<(w * h)).map { i in UInt8((i % w > 20 && i % w < 30 && i / w > k) ? 1 : 0) }
            samples.append(try PixelSample(width: w, height: h, scores: scores, mask: k == 2 ? nil : mask))
        }
        let flatScores = samples.flatMap(\.scores)
        let flatLabels = samples.flatMap { $0.mask ?? [UInt8](repeating: 0, count: $0.scores.count) }.map { $0 != 0 }
        let expected = try ImageMetrics.compute(scores: flatScores, labels: flatLabels)
        for small in [0, 100, Int.max] {
            let r = try PixelSweep.run(samples, withAUPRO: true, fprLimit: 0.3, smallBucket: small)
            XCTAssertEqual(r.auroc, expected.auroc, accuracy: 1e-12)
            XCTAssertEqual(r.averagePrecision, expected.averagePrecision, accuracy: 1e-12)
            XCTAssertEqual(r.f1Max, expected.f1Max, accuracy: 1e-12)
        }
    }
}

/// Deterministic test randomness.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
