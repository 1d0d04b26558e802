import AsyncHTTPClient
import ClipADServer
import Detection
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ImageIO
import NIOCore
import Tensor
import XCTest

/// `clipad serve` in-process on a tiny model repository: real requests through the router (and over HTTP for the
/// concurrency and tritonclient tests), answers compared with `Detector.predict` on the same images.
final class ServerTests: XCTestCase {
    nonisolated(unsafe) static var fixtures: ServerFixtures?
    nonisolated(unsafe) static var repository: ModelRepository?

    override class func setUp() {
        super.setUp()
        do {
            let f = try ServerFixtures.make()
            fixtures = f
            repository = try ModelRepository.load(folder: f.repository)
        } catch { XCTFail("fixtures: \(error)") }
    }

    override class func tearDown() {
        fixtures?.remove()
        super.tearDown()
    }

    var fixtures: ServerFixtures { Self.fixtures! }
    var repository: ModelRepository { Self.repository! }

    func server(_ edit: (inout ServerConfiguration) -> Void = { _ in }) -> InferenceServer {
        var config = ServerConfiguration()
        config.port = 0
        edit(&config)
        return InferenceServer(repository: repository, configuration: config)
    }

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var error: String { json["error"] as? String ?? "<no error field in \(String(decoding: body, as: UTF8.self))>" }
    }

    /// Sends requests through the server's router (no socket).
    func withClient<T>(_ server: InferenceServer, _ body: @Sendable (Client) async throws -> T) async throws -> T {
        try await server.application().test(.router) { client in try await body(Client(client: client)) }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol
        func send(_ uri: String, _ method: HTTPRequest.Method = .get, headers: HTTPFields = [:], body: Data? = nil) async throws -> Reply {
            try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { r in
                Reply(status: r.status, headers: r.headers, body: Data(r.body.readableBytesView))
            }
        }
        func infer(_ model: String, _ request: [String: Any], headers: HTTPFields = [.contentType: "application/json"]) async throws -> Reply {
            try await send("/v2/models/\(model)/infer", .post, headers: headers, body: try JSONSerialization.data(withJSONObject: request))
        }
    }

    static func inferRequest(_ pngs: [Data], id: String? = nil, outputs: [String]? = nil) -> [String: Any] {
        var r: [String: Any] = ["inputs": [["name": "image", "datatype": "BYTES", "shape": [pngs.count], "data": pngs.map { $0.base64EncodedString() }]]]
        if let id { r["id"] = id }
        if let outputs { r["outputs"] = outputs.map { ["name": $0] } }
        return r
    }

    /// What the model's detector returns for these images as one batch (the server batches a request's images).
    func expected(_ model: String, _ pngs: [Data]) throws -> [Prediction] {
        try repository.entries[model]!.detector!.predict(pngs.map { try ImageDecoder.decode(data: $0, name: "png", output: .rgb) })
    }

    func expected(_ model: String, _ png: Data) throws -> Prediction {
        try repository.entries[model]!.detector!.predict(ImageDecoder.decode(data: png, name: "png", output: .rgb))
    }

    static func output(_ reply: Reply, _ name: String) -> [String: Any]? {
        (reply.json["outputs"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    // MARK: - Repository

    func testRepositoryLoadsGoodEntriesAndReportsTheBrokenOne() throws {
        XCTAssertEqual(repository.entries["bottle"]?.isReady, true, repository.entries["bottle"]?.failure ?? "")
        XCTAssertEqual(repository.entries["cable"]?.isReady, true, repository.entries["cable"]?.failure ?? "")
        XCTAssertEqual(repository.entries["cable"]?.detector?.spec.method, .anomalyclip)
        XCTAssertEqual(repository.entries["broken"]?.isReady, false)
        XCTAssertTrue(repository.entries["broken"]?.failure?.contains("missing.safetensors") == true, repository.entries["broken"]?.failure ?? "")
        XCTAssertNil(repository.entries["bad name"], "a folder whose name is not a valid model name is skipped")
    }

    func testModelNamesCannotEscapeTheFolder() {
        for good in ["bottle", "screw_v2", "a.b-c"] { XCTAssertTrue(ModelRepository.isValidName(good), good) }
        for bad in ["", ".", "..", "../x", "a/b", "a..b", "bad name", "é"] { XCTAssertFalse(ModelRepository.isValidName(bad), bad) }
    }

    func testRelativeSpecPathsResolveAgainstTheEntryFolder() {
        var spec = DetectorSpec(method: .anomalyclip)
        spec.clip = "clip.safetensors"
        spec.prompts = "/abs/prompts.safetensors"
        spec.shots = ["good/", "../x.png"]
        let resolved = spec.resolvingRelativePaths(against: "/repo/cable")
        XCTAssertEqual(resolved.clip, "/repo/cable/clip.safetensors")
        XCTAssertEqual(resolved.prompts, "/abs/prompts.safetensors")
        XCTAssertEqual(resolved.shots, ["/repo/cable/good", "/repo/x.png"])
    }

    // MARK: - Health and metadata

    func testHealthServerMetadataAndModelMetadata() async throws {
        let server = self.server()
        try await withClient(server) { c in
            var r = try await c.send("/v2/health/live")
            XCTAssertEqual(r.status, .ok)
            r = try await c.send("/v2/health/ready")
            XCTAssertEqual(r.status, .ok)
            r = try await c.send("/v2")
            XCTAssertEqual(r.json["name"] as? String, "clipad")
            XCTAssertEqual(r.json["version"] as? String, ClipADVersion.current)
            XCTAssertEqual(r.json["extensions"] as? [String], ["binary_tensor_data"])
            r = try await c.send("/v2/models/bottle")
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.json["name"] as? String, "bottle")
            XCTAssertEqual(r.json["platform"] as? String, "clipad")
            let inputs = r.json["inputs"] as? [[String: Any]]
            XCTAssertEqual(inputs?.first?["name"] as? String, "image")
            XCTAssertEqual(inputs?.first?["datatype"] as? String, "BYTES")
            let outputs = r.json["outputs"] as? [[String: Any]] ?? []
            XCTAssertEqual(outputs.map { $0["name"] as? String }, ["score", "anomaly_map"])
            XCTAssertEqual(outputs.last?["shape"] as? [Int], [-1, 64, 64])
            r = try await c.send("/v2/models/bottle/ready")
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.json["ready"] as? Bool, true)
        }
    }

    func testBrokenEntryIsNotReadyWhileTheOthersServe() async throws {
        let server = self.server()
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            var r = try await c.send("/v2/models/broken/ready")
            XCTAssertEqual(r.status, .serviceUnavailable)
            XCTAssertEqual(r.json["ready"] as? Bool, false)
            XCTAssertTrue((r.json["error"] as? String)?.contains("missing.safetensors") == true)
            r = try await c.infer("broken", Self.inferRequest([png]))
            XCTAssertEqual(r.status, .serviceUnavailable)
            XCTAssertTrue(r.error.contains("not ready"), r.error)
            r = try await c.infer("bottle", Self.inferRequest([png]))
            XCTAssertEqual(r.status, .ok, r.error)
        }
    }

    // MARK: - Infer

    func testInferJSONReturnsExactlyWhatPredictReturns() async throws {
        let server = self.server()
        let pngs = fixtures.pngs
        for model in ["bottle", "cable"] {
            let expected = try self.expected(model, pngs)
            try await withClient(server) { c in
                let r = try await c.infer(model, Self.inferRequest(pngs, id: "req-7"))
                XCTAssertEqual(r.status, .ok, r.error)
                XCTAssertEqual(r.json["model_name"] as? String, model)
                XCTAssertEqual(r.json["id"] as? String, "req-7")
                let score = Self.output(r, "score")
                XCTAssertEqual(score?["datatype"] as? String, "FP32")
                XCTAssertEqual(score?["shape"] as? [Int], [2])
                XCTAssertEqual((score?["data"] as? [Double])?.map(Float.init), expected.map(\.score), model)
                let map = Self.output(r, "anomaly_map")
                let s = expected[0].mapSide
                XCTAssertEqual(map?["shape"] as? [Int], [2, s, s])
                XCTAssertEqual((map?["data"] as? [Double])?.map(Float.init), expected.flatMap(\.map), model)
            }
        }
    }

    func testInferReturnsOnlyTheRequestedOutputs() async throws {
        let server = self.server()
        let png = fixtures.pngs[1]
        try await withClient(server) { c in
            let r = try await c.infer("bottle", Self.inferRequest([png], outputs: ["anomaly_map"]))
            XCTAssertEqual(r.status, .ok, r.error)
            XCTAssertEqual((r.json["outputs"] as? [[String: Any]])?.count, 1)
            XCTAssertNotNil(Self.output(r, "anomaly_map"))
            let bad = try await c.infer("bottle", Self.inferRequest([png], outputs: ["label"]))
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertTrue(bad.error.contains("thresholds"), bad.error)
        }
    }

    /// The binary-data extension, as tritonclient sends it by default: JSON header, then length-prefixed BYTES.
    func testInferBinaryDataExtension() async throws {
        let server = self.server()
        let pngs = fixtures.pngs
        let expected = try self.expected("bottle", pngs)
        var tensor = Data()
        for png in pngs {
            withUnsafeBytes(of: UInt32(png.count).littleEndian) { tensor.append(contentsOf: $0) }
            tensor.append(png)
        }
        let binaryTensor = tensor
        let header = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "image", "datatype": "BYTES", "shape": [2], "parameters": ["binary_data_size": tensor.count]]],
            "parameters": ["binary_data_output": true],
        ] as [String: Any])
        let field = HTTPField.Name("Inference-Header-Content-Length")!
        try await withClient(server) { c in
            let r = try await c.send("/v2/models/bottle/infer", .post, headers: [field: "\(header.count)", .contentType: "application/octet-stream"],
                                     body: header + binaryTensor)
            XCTAssertEqual(r.status, .ok, String(decoding: r.body, as: UTF8.self))
            guard let length = r.headers[field].flatMap(Int.init) else { return XCTFail("no Inference-Header-Content-Length in the reply") }
            let json = try JSONSerialization.jsonObject(with: r.body.prefix(length)) as? [String: Any] ?? [:]
            let outputs = json["outputs"] as? [[String: Any]] ?? []
            var offset = length
            var scores: [Float] = []
            for o in outputs {
                let size = (o["parameters"] as? [String: Any])?["binary_data_size"] as? Int ?? 0
                let floats = r.body.subdata(in: offset..<offset + size).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                if o["name"] as? String == "score" { scores = floats }
                if o["name"] as? String == "anomaly_map" { XCTAssertEqual(floats, expected.flatMap(\.map)) }
                offset += size
            }
            XCTAssertEqual(offset, r.body.count)
            XCTAssertEqual(scores, expected.map(\.score))
        }
    }

    func testBadInputIs4xxWithAMessageNever500() async throws {
        let server = self.server()
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            var r = try await c.send("/v2/models/bottle/infer", .post, headers: [.contentType: "application/json"], body: Data("{not json".utf8))
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("malformed JSON"), r.error)
            r = try await c.infer("bottle", ["id": "x"])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("'inputs'"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "BYTES", "shape": [1]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("data"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "BYTES", "shape": [1], "data": ["***"]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("base64"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "BYTES", "shape": [1], "data": [Data("hello".utf8).base64EncodedString()]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("not a decodable"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "FP32", "shape": [1], "data": [1.0]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("BYTES"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "image", "datatype": "BYTES", "shape": [3], "data": [png.base64EncodedString()]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("shape"), r.error)
            r = try await c.infer("bottle", ["inputs": [["name": "pixels", "datatype": "BYTES", "shape": [1], "data": [""]]]])
            XCTAssertEqual(r.status, .badRequest); XCTAssertTrue(r.error.contains("unknown input"), r.error)
            r = try await c.infer("nope", Self.inferRequest([png]))
            XCTAssertEqual(r.status, .notFound); XCTAssertTrue(r.error.contains("unknown model"), r.error)
            r = try await c.infer("bottle", Self.inferRequest([png]), headers: [.contentType: "text/plain"])
            XCTAssertEqual(r.status, .unsupportedMediaType)
            r = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "text/plain"], body: png)
            XCTAssertEqual(r.status, .unsupportedMediaType)
            r = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "image/png"], body: Data("garbage".utf8))
            XCTAssertEqual(r.status, .badRequest)
            r = try await c.send("/no/such/route")
            XCTAssertEqual(r.status, .notFound); XCTAssertNotNil(r.json["error"] as? String)
        }
    }

    func testOversizedBodyIs413() async throws {
        let server = self.server { $0.maxBody = 1000 }
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            let r = try await c.infer("bottle", Self.inferRequest([png, png, png]))
            XCTAssertEqual(r.status, .contentTooLarge)
            XCTAssertTrue(r.error.contains("--max-body"), r.error)
        }
    }

    func testAPIKeyGuardsEveryRouteButHealth() async throws {
        let server = self.server { $0.apiKey = "s3cret" }
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            let key: HTTPFields = [.authorization: "Bearer s3cret"], wrong: HTTPFields = [.authorization: "Bearer wrong"]
            let live = try await c.send("/v2/health/live"), ready = try await c.send("/v2/health/ready")
            XCTAssertEqual(live.status, .ok)
            XCTAssertEqual(ready.status, .ok)
            let metadata = try await c.send("/v2/models/bottle"), metrics = try await c.send("/metrics")
            XCTAssertEqual(metadata.status, .unauthorized)
            XCTAssertEqual(metrics.status, .unauthorized)
            XCTAssertTrue(metadata.error.contains("Bearer"), metadata.error)
            let infer = try await c.infer("bottle", Self.inferRequest([png]))
            XCTAssertEqual(infer.status, .unauthorized)
            let wrongKey = try await c.send("/v2/models/bottle", headers: wrong), rightKey = try await c.send("/v2/models/bottle", headers: key)
            XCTAssertEqual(wrongKey.status, .unauthorized)
            XCTAssertEqual(rightKey.status, .ok)
            let r = try await c.infer("bottle", Self.inferRequest([png]), headers: [.contentType: "application/json", .authorization: "Bearer s3cret"])
            XCTAssertEqual(r.status, .ok, r.error)
        }
    }

    // MARK: - Inspect

    func testInspectReturnsScoreAndAPNGOverlay() async throws {
        let server = self.server()
        let png = fixtures.pngs[1]
        let expected = try self.expected("cable", png)
        try await withClient(server) { c in
            let r = try await c.send("/v1/models/cable/inspect?map=png", .post, headers: [.contentType: "image/png"], body: png)
            XCTAssertEqual(r.status, .ok, r.error)
            XCTAssertEqual(r.json["model"] as? String, "cable")
            XCTAssertEqual((r.json["score"] as? Double).map(Float.init), expected.score)
            XCTAssertEqual(r.json["clipad_version"] as? String, ClipADVersion.current)
            XCTAssertNotNil(r.json["timings"] as? [String: Any])
            XCTAssertTrue(r.json["label"] is NSNull)
            let map = try (r.json["map_png"] as? String).flatMap { Data(base64Encoded: $0) }
                .map { try ImageDecoder.decode(data: $0, name: "map", output: .rgb) }
            XCTAssertEqual(map?.width, expected.mapSide)
            let plain = try await c.send("/v1/models/cable/inspect", .post, headers: [.contentType: "image/png"], body: png)
            XCTAssertNil(plain.json["map_png"])
        }
    }

    // MARK: - Metrics and scheduling

    func testMetricsCountRequestsComputeAndReadiness() async throws {
        let server = self.server()
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            _ = try await c.infer("bottle", Self.inferRequest([png]))
            _ = try await c.infer("nope", Self.inferRequest([png]))
            _ = try await c.send("/v2/health/live")
            let r = try await c.send("/metrics")
            XCTAssertEqual(r.status, .ok)
            let text = String(decoding: r.body, as: UTF8.self)
            for line in ["clipad_requests_total{model=\"bottle\",code=\"200\"} 1", "clipad_requests_total{model=\"_unknown\",code=\"404\"} 1",
                         "clipad_compute_seconds_count{model=\"bottle\"} 1", "clipad_compute_seconds_bucket{model=\"bottle\",le=\"+Inf\"} 1",
                         "clipad_queue_depth_requests{model=\"bottle\"} 0", "clipad_model_ready{model=\"bottle\"} 1", "clipad_model_ready{model=\"broken\"} 0",
                         "# TYPE clipad_compute_seconds histogram", "clipad_requests_total{model=\"_server\",code=\"200\"}"] {
                XCTAssertTrue(text.contains(line), "missing \(line) in\n\(text)")
            }
        }
    }

    /// With the cores held, one request computes (blocked), `maxQueue` wait, and the next is turned away with 503.
    func testFullQueueAnswers503WithRetryAfter() async throws {
        let server = self.server { $0.maxQueue = 1; $0.maxBatch = 1 }
        let png = fixtures.pngs[0]
        let release = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
        Thread.detachNewThread { ExecutionContext.shared.run { held.signal(); release.wait() } }
        held.wait()
        try await withClient(server) { c in
            let first = Task { try await c.infer("bottle", Self.inferRequest([png])) }
            try await Task.sleep(nanoseconds: 300_000_000)
            let second = Task { try await c.infer("bottle", Self.inferRequest([png])) }
            try await Task.sleep(nanoseconds: 300_000_000)
            let third = try await c.infer("bottle", Self.inferRequest([png]))
            XCTAssertEqual(third.status, .serviceUnavailable, third.error)
            XCTAssertEqual(third.headers[.retryAfter], "1")
            XCTAssertTrue(third.error.contains("--max-queue"), third.error)
            release.signal()
            let a = try await first.value, b = try await second.value
            XCTAssertEqual(a.status, .ok, a.error)
            XCTAssertEqual(b.status, .ok, b.error)
        }
    }

    /// 100 concurrent requests over real HTTP, batched by the queue; every score matches its image's.
    func testHundredConcurrentRequestsAllSucceedWithTheirScores() async throws {
        let server = self.server { $0.maxBatch = 8; $0.maxQueue = 128; $0.maxQueueDelayMs = 2 }
        let pngs = fixtures.pngs
        let expected = try pngs.map { try self.expected("bottle", $0).score }
        try await server.application().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let bodies = try pngs.map { try JSONSerialization.data(withJSONObject: Self.inferRequest([$0], outputs: ["score"])) }
            try await withThrowingTaskGroup(of: (Int, Float?).self) { group in
                for i in 0..<100 {
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/models/bottle/infer")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(bytes: bodies[i % 2]))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { return (i, nil) }
                        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                        let outputs = json?["outputs"] as? [[String: Any]]
                        return (i, (outputs?.first?["data"] as? [Double])?.first.map(Float.init))
                    }
                }
                var count = 0
                for try await (i, score) in group {
                    count += 1
                    guard let score else { XCTFail("request \(i) failed"); continue }
                    XCTAssertEqual(score, expected[i % 2], accuracy: 1e-5 * max(1, abs(expected[i % 2])), "request \(i)")
                }
                XCTAssertEqual(count, 100)
            }
        }
    }
}

/// tritonclient.http, unchanged, against the server over HTTP (needs the venv `scripts/setup-test-venv` makes).
final class TritonClientTests: XCTestCase {
    func testTritonClientHTTPInfersTheSameScore() async throws {
        let venv = ProcessInfo.processInfo.environment["CLIPAD_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/clipad-venv").path
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("no Python venv at \(venv): run scripts/setup-test-venv (make test does) to install tritonclient[http]")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/serve-client/test_tritonclient.py").path
        let fixtures = try ServerFixtures.make()
        defer { fixtures.remove() }
        let repository = try ModelRepository.load(folder: fixtures.repository)
        let image = fixtures.folder.appendingPathComponent("served.png")
        try fixtures.pngs[1].write(to: image)
        let detector = try XCTUnwrap(repository.entries["bottle"]?.detector)
        let expected = try detector.predict(ImageDecoder.decode(data: fixtures.pngs[1], name: "png", output: .rgb))
        var config = ServerConfiguration()
        config.port = 0
        let server = InferenceServer(repository: repository, configuration: config)
        try await server.application().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script, "\(port)", "bottle", image.path, "\(expected.score)", "\(expected.mapSide)"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains("tritonclient ok"), text)
        }
    }
}
