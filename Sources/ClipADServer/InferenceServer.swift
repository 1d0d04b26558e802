import Detection
import Evaluation
import Foundation
import HTTPTypes
import Hummingbird
import ImageIO
import Logging
import NIOCore

/// What `clipad serve` is told.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8000
    /// Largest request body accepted (413 above).
    public var maxBody = 32 << 20
    /// Requests waiting per model (503 above).
    public var maxQueue = 64
    /// Images per batched predict.
    public var maxBatch = 8
    /// How long a batch may wait to fill, milliseconds (0: run what is queued at once).
    public var maxQueueDelayMs = 0.0
    /// Bearer token every route but health requires, when set.
    public var apiKey: String?

    public init() {}
}

/// `clipad serve`: KServe v2 / Open Inference Protocol over HTTP (+ `/v1/models/NAME/inspect` and `/metrics`) on a
/// model repository; every compute call goes through a model's `ModelWorker` into `Detector.predict`.
public final class InferenceServer: Sendable {
    public let repository: ModelRepository
    public let configuration: ServerConfiguration
    public let metrics = ServerMetrics()
    let workers: [String: ModelWorker]
    let logger: Logger

    public init(repository: ModelRepository, configuration: ServerConfiguration, logger: Logger = Logger(label: "clipad.serve")) {
        self.repository = repository
        self.configuration = configuration
        self.logger = logger
        var workers: [String: ModelWorker] = [:]
        for (name, entry) in repository.entries {
            metrics.setReady(model: name, entry.isReady)
            if let d = entry.detector {
                workers[name] = ModelWorker(name: name, detector: d, maxQueue: configuration.maxQueue, maxBatch: configuration.maxBatch,
                                            maxQueueDelay: configuration.maxQueueDelayMs / 1000, metrics: metrics)
            }
        }
        self.workers = workers
    }

    /// The Hummingbird application (bind address from the configuration).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "clipad"),
                    onServerRunning: onServerRunning, logger: logger)
    }

    /// Serves until SIGTERM / SIGINT, then shuts down gracefully (in-flight requests finish).
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).runService()
    }

    // MARK: - Routes

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ServerMiddleware(apiKey: configuration.apiKey, metrics: metrics, models: Set(repository.entries.keys)))
        router.get("/v2") { _, _ in
            json(["name": "clipad", "version": ClipADVersion.current, "extensions": ["binary_tensor_data"]])
        }
        router.get("/v2/health/live") { _, _ in json([String: Any]()) }
        router.get("/v2/health/ready") { [repository] _, _ in
            let ready = repository.entries.values.contains { $0.isReady }
            return json(["ready": ready], status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/v2/models/:name") { [self] _, context in
            let (name, detector) = try model(context)
            return json(metadata(name: name, detector: detector))
        }
        router.get("/v2/models/:name/ready") { [repository] _, context in
            let name = try context.parameters.require("name")
            guard let entry = repository.entries[name] else { throw ServerError.unknownModel(name) }
            var body: [String: Any] = ["name": name, "ready": entry.isReady]
            if let f = entry.failure { body["error"] = f }
            return json(body, status: entry.isReady ? .ok : .serviceUnavailable)
        }
        router.post("/v2/models/:name/infer") { [self] request, context in try await infer(request, context) }
        router.post("/v1/models/:name/inspect") { [self] request, context in try await inspect(request, context) }
        router.get("/metrics") { [metrics] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        return router
    }

    func model(_ context: BasicRequestContext) throws -> (String, any Detector) {
        let name = try context.parameters.require("name")
        guard let entry = repository.entries[name] else { throw ServerError.unknownModel(name) }
        guard let detector = entry.detector else { throw ServerError.modelNotReady(name, reason: entry.failure ?? "not loaded") }
        return (name, detector)
    }

    func metadata(name: String, detector: any Detector) -> [String: Any] {
        let s = detector.mapSide
        var outputs: [[String: Any]] = [["name": "score", "datatype": "FP32", "shape": [-1]]]
        if detector.thresholds != nil { outputs.append(["name": "label", "datatype": "INT32", "shape": [-1]]) }
        outputs.append(["name": "anomaly_map", "datatype": "FP32", "shape": [-1, s, s]])
        return ["name": name, "versions": ["1"], "platform": "clipad",
                "parameters": ["method": detector.spec.method.rawValue, "image_size": detector.preprocessor.size, "map_size": s],
                "inputs": [["name": "image", "datatype": "BYTES", "shape": [-1]]], "outputs": outputs]
    }

    func body(_ request: Request) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBody {
            throw ServerError.bodyTooLarge(limit: configuration.maxBody)
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: configuration.maxBody) } catch {
            throw ServerError.bodyTooLarge(limit: configuration.maxBody)
        }
        return Data(buffer.readableBytesView)
    }

    static func decode(_ data: Data, name: String) throws -> Image {
        do { return try ImageDecoder.decode(data: data, name: name, output: .rgb) } catch {
            throw ServerError.badRequest("\(name): not a decodable PNG or JPEG image (\(error))")
        }
    }

    func predict(_ name: String, _ detector: any Detector, _ images: [Image]) async throws -> [Prediction] {
        guard let worker = workers[name] else { throw ServerError.modelNotReady(name, reason: "not loaded") }
        return try await worker.predict(images)
    }

    static let headerLengthField = HTTPField.Name("Inference-Header-Content-Length")!

    func infer(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (name, detector) = try model(context)
        let headerLength: Int?
        if let h = request.headers[Self.headerLengthField] {
            guard let n = Int(h) else { throw ServerError.badRequest("Inference-Header-Content-Length '\(h)' is not an integer") }
            headerLength = n
        } else {
            headerLength = nil
            if let type = request.headers[.contentType], !type.hasPrefix("application/json") {
                throw ServerError.unsupportedMediaType(type, expected: "application/json (or the binary-data extension)")
            }
        }
        let parsed = try InferenceRequest.parse(body: try await body(request), headerLength: headerLength)
        let images = try parsed.images.enumerated().map { i, d in try Self.decode(d, name: "input 'image' element \(i)") }
        let predictions = try await predict(name, detector, images)

        let n = predictions.count, s = detector.mapSide
        var available: [String] = ["score"]
        if detector.thresholds != nil { available.append("label") }
        available.append("anomaly_map")
        let wanted = parsed.outputs ?? available.map { .init(name: $0, binary: parsed.binaryOutputs) }
        var outputs: [[String: Any]] = []
        var binary = Data()
        for output in wanted {
            var entry: [String: Any] = ["name": output.name]
            switch output.name {
            case "score":
                entry["datatype"] = "FP32"; entry["shape"] = [n]
                let values = predictions.map(\.score)
                if output.binary { append(values, to: &binary, entry: &entry) } else { entry["data"] = values.map(Double.init) }
            case "label":
                guard detector.thresholds != nil else {
                    throw ServerError.badRequest("output 'label' needs thresholds; model '\(name)' has none (calibrate it with `clipad calibrate`)")
                }
                entry["datatype"] = "INT32"; entry["shape"] = [n]
                let values = predictions.map { Int32($0.label ?? 0) }
                if output.binary { append(values, to: &binary, entry: &entry) } else { entry["data"] = values.map(Int.init) }
            case "anomaly_map":
                entry["datatype"] = "FP32"; entry["shape"] = [n, s, s]
                let values = predictions.flatMap(\.map)
                if output.binary { append(values, to: &binary, entry: &entry) } else { entry["data"] = values.map(Double.init) }
            default:
                throw ServerError.badRequest("unknown output '\(output.name)' (model '\(name)' has \(available.joined(separator: ", ")))")
            }
            outputs.append(entry)
        }
        var response: [String: Any] = ["model_name": name, "model_version": "1", "outputs": outputs]
        if let id = parsed.id { response["id"] = id }
        if binary.isEmpty { return json(response) }
        let header = try JSONSerialization.data(withJSONObject: response)
        var buffer = ByteBuffer(bytes: header)
        buffer.writeBytes(binary)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream", Self.headerLengthField: "\(header.count)"],
                        body: ResponseBody(byteBuffer: buffer))
    }

    func append<T>(_ values: [T], to binary: inout Data, entry: inout [String: Any]) {
        let bytes = values.withUnsafeBytes { Data($0) }  // little-endian on every platform ClipAD runs on
        binary.append(bytes)
        entry["parameters"] = ["binary_data_size": bytes.count]
    }

    func inspect(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (name, detector) = try model(context)
        let type = request.headers[.contentType] ?? ""
        guard type.hasPrefix("image/png") || type.hasPrefix("image/jpeg") else {
            throw ServerError.unsupportedMediaType(type, expected: "image/png or image/jpeg")
        }
        let image = try Self.decode(try await body(request), name: "the request body")
        let p = try await predict(name, detector, [image])[0]
        var out: [String: Any] = [
            "model": name, "score": Double(p.score), "clipad_version": ClipADVersion.current, "map_size": p.mapSide,
            "timings": ["preprocess_seconds": p.timings.preprocessSeconds, "compute_seconds": p.timings.computeSeconds,
                        "wait_seconds": p.timings.waitSeconds],
        ]
        out["label"] = p.label.map { $0 as Any } ?? NSNull()
        out["thresholds"] = p.thresholds.map { ["image": Double($0.image), "pixel": Double($0.pixel)] as Any } ?? NSNull()
        if request.uri.queryParameters.get("map") == "png" {
            let heat = ColorMap.turbo.colorize(p.map, width: p.mapSide, height: p.mapSide, range: detector.naturalMapRange)
            let overlay = ColorMap.blend(detector.overlayBase(image), heat, alpha: 0.5)
            out["map_png"] = try ImageEncoder.pngData(overlay).base64EncodedString()
        }
        return json(out)
    }
}

/// A JSON response.
func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// Bearer-token check (every route but health), errors as JSON with their status, and request counting.
struct ServerMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?
    let metrics: ServerMetrics
    /// Model names counted under their own label (anything else under "_unknown", so clients cannot grow the metrics).
    let models: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        var response: Response
        do {
            if let apiKey, !path.hasPrefix("/v2/health/") {
                let given = request.headers[.authorization] ?? ""
                guard given.hasPrefix("Bearer "), Self.constantTimeEqual(String(given.dropFirst(7)), apiKey) else {
                    throw ServerError.unauthorized
                }
            }
            response = try await next(request, context)
        } catch let error as ServerError {
            response = json(["error": error.description], status: error.status)
            if case .queueFull = error { response.headers[.retryAfter] = "1" }
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "no route \(request.method) \(path)" : (error.body ?? "\(error.status)")
            response = json(["error": message], status: error.status)
        } catch {
            response = json(["error": "\(error)"], status: .badRequest)
        }
        metrics.countRequest(model: modelLabel(path), status: response.status.code)
        return response
    }

    /// The model a path addresses (`/v2/models/NAME/...`, `/v1/models/NAME/...`), "_server" for server routes.
    func modelLabel(_ path: String) -> String {
        let parts = path.split(separator: "/")
        guard parts.count >= 3, parts[1] == "models" else { return "_server" }
        return models.contains(String(parts[2])) ? String(parts[2]) : "_unknown"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
