import ClipADServer
import Detection
import Foundation
import HTTPTypes
import ImageIO
import Tensor
import XCTest

/// The `image` input as FP32 [B, 3, S, S], already preprocessed by the client (JSON or binary): the same scores as
/// the encoded files, and a 400 naming the problem for a wrong shape, non-finite values or a short tensor.
extension ServerTests {
    func preprocessed(_ model: String, _ pngs: [Data]) throws -> (shape: [Int], values: [Float]) {
        let detector = try XCTUnwrap(repository.entries[model]?.detector)
        let pixels = detector.preprocessor.batch(try pngs.map { try ImageDecoder.decode(data: $0, name: "png", output: .rgb) })
        return (pixels.shape, Array(UnsafeBufferPointer(start: pixels.data, count: pixels.shape.reduce(1, *))))
    }

    func testFP32PreprocessedInputScoresLikeTheEncodedFiles() async throws {
        let server = self.server()
        let pngs = fixtures.pngs
        let expected = try self.expected("bottle", pngs)
        let pixels = try preprocessed("bottle", pngs)
        XCTAssertEqual(pixels.shape, [2, 3, 64, 64])
        try await withClient(server) { c in
            // JSON data, nested as the shape says.
            let json = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "FP32", "shape": pixels.shape, "data": pixels.values.map(Double.init)]],
                                                    "outputs": [["name": "score"]]])
            XCTAssertEqual(json.status, .ok, json.error)
            XCTAssertEqual((Self.output(json, "score")?["data"] as? [Double])?.map(Float.init), expected.map(\.score))
            // Binary data extension.
            let tensor = pixels.values.withUnsafeBytes { Data($0) }
            let header = try JSONSerialization.data(withJSONObject: [
                "inputs": [["name": "image", "datatype": "FP32", "shape": pixels.shape, "parameters": ["binary_data_size": tensor.count]]],
                "outputs": [["name": "score"]]] as [String: Any])
            let field = HTTPField.Name("Inference-Header-Content-Length")!
            let binary = try await c.send("/v2/models/bottle/infer", .post, headers: [field: "\(header.count)"], body: header + tensor)
            XCTAssertEqual(binary.status, .ok, String(decoding: binary.body, as: UTF8.self))
            XCTAssertEqual((Self.output(binary, "score")?["data"] as? [Double])?.map(Float.init), expected.map(\.score))
            // The metadata says how to preprocess.
            let meta = try await c.send("/v2/models/bottle")
            let recipe = (meta.json["parameters"] as? [String: Any])?["preprocessed_image"] as? [String: Any]
            XCTAssertEqual(recipe?["shape"] as? [Int], [-1, 3, 64, 64])
            XCTAssertEqual(recipe?["resize"] as? String, "square")
        }
    }

    func testFP32InputProblemsAre400NamingThem() async throws {
        let server = self.server()
        try await withClient(server) { c in
            func fp32(_ shape: [Int], _ values: [Double]) async throws -> Reply {
                try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "FP32", "shape": shape, "data": values]]])
            }
            var r = try await fp32([1, 3, 32, 32], [Double](repeating: 0, count: 3 * 32 * 32))
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("expected [B, 3, 64, 64]"), r.error)
            r = try await fp32([1, 3, 64, 64], [Double](repeating: 0, count: 10))
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("12288 elements) but 10"), r.error)
            r = try await fp32([1, 3, 64, 64], [1e39] + [Double](repeating: 0, count: 12287))
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("finite"), r.error)
            r = try await fp32([1_000_000_000, 1_000_000_000, 1_000_000_000], [])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("too many elements"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "FP32", "shape": [1, 3, 64, 64], "data": ["a"]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("numbers"), r.error)
            // Binary NaN, and a binary tensor shorter than its shape.
            var values = [Float](repeating: 0, count: 12288)
            values[7] = .nan
            let tensor = values.withUnsafeBytes { Data($0) }
            let field = HTTPField.Name("Inference-Header-Content-Length")!
            for (bytes, message) in [(tensor, "element 7 is nan"), (tensor.prefix(100), "needs 49152 binary bytes, got 100")] {
                let header = try JSONSerialization.data(withJSONObject: [
                    "inputs": [["name": "image", "datatype": "FP32", "shape": [1, 3, 64, 64], "parameters": ["binary_data_size": bytes.count]]]] as [String: Any])
                r = try await c.send("/v2/models/bottle/infer", .post, headers: [field: "\(header.count)"], body: header + bytes)
                XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains(message), r.error)
            }
        }
    }
}
