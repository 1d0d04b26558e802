import Foundation
import Tensor
import XCTest
@testable import Evaluation

/// Thresholds from normal scores: the order-statistic rule, ties, the FPR bound, the streaming selection, storage.
final class ThresholdTests: XCTestCase {
    func testOrderStatisticAndTies() throws {
        // 10 normals, target 0.2: two may be above the threshold -> the 3rd largest.
        let scores: [Float] = [0.1, 0.9, 0.3, 0.8, 0.5, 0.2, 0.7, 0.4, 0.6, 0.05]
        let (t, fpr) = try Thresholds.threshold(normalScores: scores, targetFPR: 0.2)
        XCTAssertEqual(t, 0.7)
        XCTAssertEqual(fpr, 0.2)
        // Ties at the cut: fewer than allowed end up above (FPR stays <= target).
        let tied: [Float] = [0.9, 0.8, 0.8, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
        let (t2, fpr2) = try Thresholds.threshold(normalScores: tied, targetFPR: 0.2)
        XCTAssertEqual(t2, 0.8)
        XCTAssertEqual(fpr2, 0.1)
        // A target below 1/n allows no false positive: the maximum.
        XCTAssertEqual(try Thresholds.threshold(normalScores: scores, targetFPR: 0.05).threshold, 0.9)
        XCTAssertThrowsError(try Thresholds.threshold(normalScores: [], targetFPR: 0.1))
        XCTAssertThrowsError(try Thresholds.threshold(normalScores: scores, targetFPR: 0))
    }

    /// The streaming calibrator over many "maps" equals the answer from sorting everything, for several targets.
    func testStreamingEqualsSorting() throws {
        var rng = SeededGenerator(seed: 9)
        let maps = (0..<30).map { _ in (0..<2000).map { _ in Float(Int(rng.nextUniform() * 500)) / 500 } }   // many ties
        let all = maps.flatMap { $0 }.sorted(by: >)
        for target in [0.001, 0.01, 0.1, 0.37] {
            var c = try Thresholds.Calibrator(maximumCount: 35 * 2000, targetFPR: target)   // planned for more than come
            for m in maps { c.add(m) }
            let (t, fpr) = try c.result()
            let allowed = Int((target * Double(all.count)).rounded(.down))
            XCTAssertEqual(t, all[allowed], "target \(target)")
            let above = all.filter { $0 > t }.count
            XCTAssertEqual(fpr, Double(above) / Double(all.count))
            XCTAssertLessThanOrEqual(fpr, target)
        }
    }

    func testMetadataAndJSONRoundTrip() throws {
        let t = Thresholds(image: 0.25, pixel: 0.125, targetFPR: 0.01, imageFPR: 0.008, pixelFPR: 0.0099, normalImages: 120, method: "promptad")
        XCTAssertEqual(Thresholds(metadata: t.metadata), t)
        XCTAssertNil(Thresholds(metadata: ["method": "anomalyclip"]))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("thresholds-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(t.json().utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try Thresholds.read(jsonFile: file), t)
        XCTAssertThrowsError(try Thresholds.read(jsonFile: file + ".missing")) {
            XCTAssertEqual("\($0)", "\(file).missing: cannot read the thresholds file: does not exist")
        }
    }

    func testPredictedMaskAtImageSize() {
        // A 2x2 map upsampled to 4x4: only the bottom-right quarter exceeds the threshold.
        let p = MapPrediction(map: [0, 0, 0, 1], width: 2, height: 2, score: 1)
        let mask = PredictedMask.binary(p, threshold: 0.5, width: 4, height: 4)
        XCTAssertEqual(mask.width, 4)
        XCTAssertEqual(mask.pixels, [0, 0, 0, 0,
                                     0, 0, 0, 0,
                                     0, 0, 255, 255,
                                     0, 0, 255, 255])
    }
}
