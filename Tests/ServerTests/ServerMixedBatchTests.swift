@testable import ClipADServer
import Detection
import Foundation
import ImageIO
import Tensor
import XCTest

/// An encoded-image request and an FP32 request queued together run as ONE batch, and each scores what it scores
/// alone (to rounding).
extension ServerTests {
    func testEncodedAndFP32RequestsShareABatchAndScoreAsAlone() async throws {
        let detector = try XCTUnwrap(repository.entries["bottle"]?.detector)
        let metrics = ServerMetrics()
        // A long queue delay: the worker waits for more requests before it runs, so both are in its first batch.
        let worker = ModelWorker(name: "bottle", detector: detector, maxQueue: 8, maxBatch: 8, maxQueueDelay: 1.0, metrics: metrics)
        let images = try fixtures.pngs.map { try ImageDecoder.decode(data: $0, name: "png", output: .rgb) }
        let pixels = detector.preprocessor.batch([images[1]])
        async let encoded = worker.predict(.images([images[0]]))
        async let fp32 = worker.predict(.pixels(pixels))
        let (a, b) = try await (encoded, fp32)
        // Batched numerics differ from one image's by rounding only (GEMMs of another height): the same bar as the
        // 100-concurrent-requests test, NaN failing it.
        func assertClose(_ got: Prediction?, _ want: Prediction?, _ what: String) {
            guard let got, let want else { return XCTFail("\(what): missing prediction") }
            XCTAssertEqual(got.map.count, want.map.count, what)
            let worst = zip(got.map + [got.score], want.map + [want.score]).map { abs($0 - $1) }.reduce(0) { $1.isNaN || $0.isNaN ? .nan : Swift.max($0, $1) }
            XCTAssertTrue(worst <= 1e-5, "\(what): largest difference \(worst)")
        }
        assertClose(a.first, try detector.predict([images[0]]).first, "encoded image in a mixed batch")
        assertClose(b.first, try detector.predict(pixels: pixels).first, "FP32 request in a mixed batch")
        // One batch of two images: the batch-size histogram has one observation summing to 2.
        let text = metrics.render()
        XCTAssertTrue(text.contains(#"clipad_batch_images_count{model="bottle"} 1"#), text)
        XCTAssertTrue(text.contains(#"clipad_batch_images_sum{model="bottle"} 2"#), text)
    }
}
