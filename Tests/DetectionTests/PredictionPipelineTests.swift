import CLIP
import Detection
import DetectionTestSupport
import Evaluation
import Foundation
import ImageIO
import Tensor
import XCTest

/// `PredictionPipeline`: in input order, the image-by-image results (bit for bit at batch size 1), each failure at
/// its own place with the image-by-image error, a stop on a thrown delivery, and at most two batches ahead.
final class PredictionPipelineTests: TinyModelsTestCase {
    /// Five images: not a multiple of 2, 3 or 4.
    var paths: [String] { m.shots + m.tests + [m.tests[0]] }

    func collect(_ pipeline: PredictionPipeline, _ names: [String]) throws -> [Result<Prediction, any Error>] {
        var results: [Result<Prediction, any Error>] = []
        try pipeline.run(names) { i, result in
            XCTAssertEqual(i, results.count, "delivered in input order")
            results.append(result)
        }
        return results
    }

    /// Batch size 1: bit for bit; larger batches: to rounding (the encoder's products round differently with more rows).
    func assertSame(_ a: Prediction, _ b: Prediction, batchSize: Int, _ what: String) {
        if batchSize == 1 { return assertIdentical(a, b, what) }
        XCTAssertEqual(a.score, b.score, accuracy: 1e-5 * max(1, abs(b.score)), "score, \(what)")
        XCTAssertEqual(a.map.count, b.map.count, what)
        // Any NaN on either side makes `worst` NaN, which fails the bar (Swift's max() would drop it).
        let worst = zip(a.map, b.map).map { abs($0 - $1) / max(1, abs($1)) }.reduce(Float(0)) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
        XCTAssertTrue(worst < 1e-5, "map, \(what): largest relative difference \(worst)")
        XCTAssertEqual([a.mapSide, a.gridSide, a.imageWidth, a.imageHeight], [b.mapSide, b.gridSide, b.imageWidth, b.imageHeight], what)
    }

    func assertIdentical(_ a: Prediction, _ b: Prediction, _ what: String) {
        XCTAssertEqual(a.score.bitPattern, b.score.bitPattern, "score, \(what)")
        XCTAssertEqual(a.map.map(\.bitPattern), b.map.map(\.bitPattern), "map, \(what)")
        XCTAssertEqual(a.gridMap.map(\.bitPattern), b.gridMap.map(\.bitPattern), "grid map, \(what)")
        XCTAssertEqual([a.mapSide, a.gridSide, a.imageWidth, a.imageHeight], [b.mapSide, b.gridSide, b.imageWidth, b.imageHeight], what)
    }

    func testEveryMethodAndBatchSizeGivesTheImageByImageResults() throws {
        for method in DetectionMethod.allCases {
            let detector = try DetectorFactory.make(m.spec(method)).detector
            let single = try paths.map { try detector.predict(try ImageDecoder.decodeRGB(path: $0), name: $0) }
            for batchSize in [1, 2, 3, 4, 5, 8] {
                let results = try collect(try PredictionPipeline(detector: detector, batchSize: batchSize), paths)
                XCTAssertEqual(results.count, paths.count)
                for (i, (result, expected)) in zip(results, single).enumerated() {
                    assertSame(try result.get(), expected, batchSize: batchSize, "\(method.rawValue) batch \(batchSize) image \(i)")
                }
            }
        }
    }

    func testAnUnreadableImageFailsAtItsPlaceWithTheImageByImageError() throws {
        let broken = m.folder.appendingPathComponent("broken.png").path, missing = m.folder.appendingPathComponent("missing.png").path
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: broken))
        let names = [paths[0], broken, paths[1], paths[2], missing, paths[3]]
        let detector = try DetectorFactory.make(m.spec(.anomalyclip)).detector
        for batchSize in [1, 2, 3] {
            let results = try collect(try PredictionPipeline(detector: detector, batchSize: batchSize), names)
            XCTAssertEqual(results.count, names.count)
            for (i, name) in names.enumerated() {
                do {
                    let expected = try detector.predict(try ImageDecoder.decodeRGB(path: name), name: name)
                    assertSame(try results[i].get(), expected, batchSize: batchSize, "batch \(batchSize) image \(i)")
                } catch {
                    guard case let .failure(got) = results[i] else { return XCTFail("image \(i) should fail: \(error)") }
                    XCTAssertEqual("\(got)", "\(error)", "batch \(batchSize) image \(i)")
                }
            }
            XCTAssertEqual(results.map { (try? $0.get()) == nil }, [false, true, false, false, true, false])
        }
    }

    func testANonFiniteScoreSpoilsOnlyItsOwnImageOfTheBatch() throws {
        let folder = m.folder.appendingPathComponent("levels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let names = try [40, 255, 90, 130].map { level -> String in
            let path = folder.appendingPathComponent("level\(level).png").path
            try ImageEncoder.write(Image(width: 12, height: 10, channels: 3, repeating: UInt8(level)), to: path)
            return path
        }
        let detector = BrightnessDetector()
        let results = try collect(try PredictionPipeline(detector: detector, batchSize: 4), names)
        for (i, name) in names.enumerated() {
            do {
                assertIdentical(try results[i].get(), try detector.predict(try ImageDecoder.decodeRGB(path: name), name: name), "image \(i)")
                XCTAssertNotEqual(i, 1)
            } catch {
                XCTAssertEqual(i, 1, "only the white image fails: \(error)")
                XCTAssertEqual("\(error)", "\(DetectionError.nonFiniteScore(image: name))")
            }
        }
    }

    func testAThrownDeliveryStopsTheRun() throws {
        struct Stop: Error {}
        let pipeline = try PredictionPipeline(detector: BrightnessDetector(), batchSize: 2)
        var delivered: [Int] = []
        XCTAssertThrowsError(try pipeline.run(Array(repeating: "x", count: 20).enumerated().map { "\($1)\($0)" }) { i, _ in
            delivered.append(i)
            if i == 2 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(delivered, [0, 1, 2])
    }

    func testAtMostTwoBatchesArePreparedAhead() throws {
        let loads = LoadCounter()
        var pipeline = try PredictionPipeline(detector: BrightnessDetector(), batchSize: 3)
        pipeline.load = { _ in loads.increment(); return Image(width: 8, height: 8, channels: 3, repeating: 60) }
        var peakAhead = 0
        try pipeline.run((0..<40).map { "image\($0)" }) { i, result in
            XCTAssertNoThrow(try result.get())
            // Batch i / 3 has been scored; the preparer may hold the next two.
            Thread.sleep(forTimeInterval: 0.002)
            peakAhead = max(peakAhead, loads.count - (i / 3 + 1) * 3)
        }
        XCTAssertEqual(loads.count, 40)
        XCTAssertLessThanOrEqual(peakAhead, 2 * 3)
        XCTAssertGreaterThan(peakAhead, 0, "the next batch was prepared while one was delivered")
    }

    func testABatchSizeBelowOneIsATypedError() {
        XCTAssertThrowsError(try PredictionPipeline(detector: BrightnessDetector(), batchSize: 0)) {
            XCTAssertEqual($0 as? DetectionError, .badSetting(setting: "batch-size", reason: "must be at least 1, got 0"))
        }
    }

    func testTheDefaultBatchIsTheBitExactOne() throws {
        XCTAssertEqual(try PredictionPipeline(detector: BrightnessDetector()).batchSize, 1)
    }
}

/// Counts loads from the pipeline's background thread.
final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var loads = 0
    func increment() { lock.lock(); loads += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return loads }
}

/// A detector without a model: each image's score is its mean normalised pixel, and a (nearly) white image scores NaN,
/// so a batch holding one fails as a whole.
final class BrightnessDetector: Detector {
    let spec = DetectorSpec(method: .anomalyclip)
    let preprocessor: ImagePreprocessor
    var mapSide: Int { 4 }
    var naturalMapRange: ClosedRange<Float> { 0...1 }
    var learnedImages: [String] { [] }
    var thresholds: CalibratedThresholds? { nil }
    var settings: [(key: String, value: String)] { [] }

    init(side: Int = 8) {
        preprocessor = ImagePreprocessor(size: side, resize: .square)
    }

    func forward(_ pixels: Tensor) throws -> MethodOutput {
        let n = pixels.shape[0], inner = pixels.count / n
        let means = (0..<n).map { b in (0..<inner).reduce(Float(0)) { $0 + pixels.data[b * inner + $1] } / Float(inner) }
        let scores = means.map { $0 > 1.8 ? Float.nan : $0 }
        return MethodOutput(scores: scores, gridMaps: Tensor(shape: [n, 2, 2]) { means[$0 / 4] + Float($0 % 4) },
                            maps: Tensor(shape: [n, 4, 4]) { means[$0 / 16] * Float($0 % 16) })
    }

    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool { false }
}
