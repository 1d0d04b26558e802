import Detection
import Evaluation
import Foundation
import HTTPTypes
import Hummingbird
import ImageIO
import Logging
import NIOCore
import ServiceLifecycle
import Tensor

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
    /// Deadline of a request that names none, milliseconds from its arrival (0: none); past it, 504.
    public var requestTimeoutMs = 0.0
    /// Bearer token every route but health requires, when set.
    public var apiKey: String?
    /// Seconds between SIGTERM / SIGINT and the graceful shutdown, readiness 503 and new work refused meanwhile (0: none).
    public var drainSeconds = 5.0
    /// After the drain period, how long requests still open may take before the server is stopped anyway.
    public var shutdownGraceSeconds = 20.0

    public init() {}
}

/// `clipad serve`: KServe v2 / Open Inference Protocol over HTTP (+ `/v1/models/NAME/inspect`, `/metrics`, the
/// operator's page and `/openapi.json`) on a model repository; every compute call goes through a model's
/// `ModelWorker` into `Detector.predict`. `reload()` (SIGHUP) swaps in the repository as it is on disk.
public final class InferenceServer: Sendable {
    public let configuration: ServerConfiguration
    public let metrics = ServerMetrics()
    let models: ServedModels
    let logger: Logger
    let drain = ServerDrain()
    private let reloadLock = NSLock()

    /// The repository served now.
    public var repository: ModelRepository { models.snapshot.repository }

    public init(repository: ModelRepository, configuration: ServerConfiguration, logger: Logger = Logger(label: "clipad.serve")) {
        self.configuration = configuration
        self.logger = logger
        models = ServedModels(.init(repository: repository, workers: [:]))
        models.replace(with: snapshot(repository, previous: nil))
    }

    /// Workers for `repository`: an entry loaded before (same detector) keeps its worker and queue.
    private func snapshot(_ repository: ModelRepository, previous: ServedModels.Snapshot?) -> ServedModels.Snapshot {
        var workers: [String: ModelWorker] = [:]
        for (name, entry) in repository.entries {
            metrics.setReady(model: name, entry.isReady)
            guard let d = entry.detector else { continue }
            if let old = previous?.workers[name], old.detector === d {
                workers[name] = old
            } else {
                workers[name] = ModelWorker(name: name, detector: d, maxQueue: configuration.maxQueue, maxBatch: configuration.maxBatch,
                                            maxQueueDelay: configuration.maxQueueDelayMs / 1000, metrics: metrics)
            }
        }
        return .init(repository: repository, workers: workers)
    }

    /// Reads the repository folder again: new entries load, changed ones (spec or files) load anew, removed ones
    /// stop serving, unchanged ones keep their loaded detector. Requests already admitted finish on the model they
    /// started with. A folder that cannot be read keeps everything as it was (and throws).
    @discardableResult
    public func reload() throws -> ReloadSummary {
        try reloadLock.withLock {
            let old = models.snapshot
            let repository = try ModelRepository.load(folder: old.repository.folder, reusing: old.repository, logger: logger)
            let new = snapshot(repository, previous: old)
            var summary = ReloadSummary()
            for name in repository.entries.keys.sorted() {
                guard let before = old.repository.entries[name] else { summary.added.append(name); continue }
                if before.fingerprint == repository.entries[name]!.fingerprint { summary.unchanged.append(name) } else { summary.changed.append(name) }
            }
            summary.removed = old.repository.entries.keys.filter { repository.entries[$0] == nil }.sorted()
            for name in summary.removed { metrics.removeModel(name) }
            models.replace(with: new)
            logger.info("model repository reloaded: \(summary)")
            return summary
        }
    }

    /// Reloads on every SIGHUP (off the event loops) until the returned source is cancelled.
    public func reloadOnHangup(onReload: @escaping @Sendable (Result<ReloadSummary, Error>) -> Void = { _ in }) -> DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)  // the dispatch source sees it; the default action would end the process
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "clipad.serve.reload"))
        source.setEventHandler { [self] in
            let result = Result { try reload() }
            if case .failure(let error) = result { logger.error("model repository reload failed, still serving the previous one: \(error)") }
            onReload(result)
        }
        source.resume()
        return source
    }

    /// Starts the shutdown drain (SIGTERM / SIGINT do it through `run`): readiness answers 503 "shutting down" and new
    /// infer/inspect requests 503 with Retry-After; requests already admitted finish.
    public func beginDraining() {
        guard drain.begin() else { return }
        metrics.setDraining(true)
    }

    /// The Hummingbird application (bind address from the configuration).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "clipad"),
                    onServerRunning: onServerRunning, logger: logger)
    }

    /// Serves until SIGTERM / SIGINT, then drains (`drainSeconds`) and shuts down gracefully (in-flight requests
    /// finish, within `shutdownGraceSeconds` more); SIGHUP reloads.
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        let hangup = reloadOnHangup()
        defer { hangup.cancel() }
        // The drain service is listed last: the group shuts services down in reverse order (see DrainService).
        let services: [any Service] = [application(onServerRunning: onServerRunning),
                                       DrainService(server: self, seconds: configuration.drainSeconds, logger: logger)]
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .nanoseconds(Int64((configuration.drainSeconds + configuration.shutdownGraceSeconds) * 1e9))
        try await ServiceGroup(configuration: group).run()
    }

    // MARK: - Routes

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ServerMiddleware(apiKey: configuration.apiKey, metrics: metrics,
                                                isModel: { [models] in models.snapshot.repository.entries[$0] != nil }))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: OperatorPage.contentSecurityPolicy],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OperatorPage.html)))
        }
        router.get("/openapi.json") { _, _ in json(OpenAPIDocument.document(version: ClipADVersion.current)) }
        router.get("/v2") { _, _ in
            json(["name": "clipad", "version": ClipADVersion.current, "extensions": ["binary_tensor_data"]])
        }
        router.get("/v2/health/live") { _, _ in json([String: Any]()) }
        router.get("/v2/health/ready") { [models, drain] _, _ in
            if drain.isDraining { return json(["ready": false, "reason": "shutting down"], status: .serviceUnavailable) }
            let ready = models.snapshot.repository.entries.values.contains { $0.isReady }
            return json(["ready": ready], status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/v2/models/:name") { [self] _, context in
            let (name, detector, _) = try model(context)
            return json(metadata(name: name, detector: detector))
        }
        router.get("/v2/models/:name/ready") { [models, drain] _, context in
            let name = try context.parameters.require("name")
            guard let entry = models.snapshot.repository.entries[name] else { throw ServerError.unknownModel(name) }
            if drain.isDraining { return json(["name": name, "ready": false, "reason": "shutting down"], status: .serviceUnavailable) }
            var body: [String: Any] = ["name": name, "ready": entry.isReady]
            if let f = entry.failure { body["error"] = f }
            return json(body, status: entry.isReady ? .ok : .serviceUnavailable)
        }
        router.post("/v2/models/:name/infer") { [self] request, context in try await drain.admit { try await infer(request, context) } }
        router.get("/v1/models") { [self] _, _ in json(["models": modelList()]) }
        router.post("/v1/models/:name/inspect") { [self] request, context in try await drain.admit { try await inspect(request, context) } }
        router.get("/metrics") { [metrics] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        return router
    }

    /// The named model's detector and the worker that queues its requests (taken once per request: see `ServedModels`).
    func model(_ context: BasicRequestContext) throws -> (String, any Detector, ModelWorker) {
        let name = try context.parameters.require("name")
        let snapshot = models.snapshot
        guard let entry = snapshot.repository.entries[name] else { throw ServerError.unknownModel(name) }
        guard let detector = entry.detector, let worker = snapshot.workers[name] else {
            throw ServerError.modelNotReady(name, reason: entry.failure ?? "not loaded")
        }
        return (name, detector, worker)
    }

    /// Every model, for the operator's page and scripts.
    func modelList() -> [[String: Any]] {
        models.snapshot.repository.entries.values.sorted { $0.name < $1.name }.map { entry in
            var item: [String: Any] = ["name": entry.name, "ready": entry.isReady]
            if let d = entry.detector {
                item["method"] = d.spec.method.rawValue
                item["image_size"] = d.preprocessor.size
                item["map_size"] = d.mapSide
                item["thresholds"] = d.thresholds.map { ["image": Double($0.thresholds.image), "pixel": Double($0.thresholds.pixel)] as Any } ?? NSNull()
            }
            if let f = entry.failure { item["error"] = f }
            return item
        }
    }

    func metadata(name: String, detector: any Detector) -> [String: Any] {
        let s = detector.mapSide
        var outputs: [[String: Any]] = [["name": "score", "datatype": "FP32", "shape": [-1]]]
        if detector.thresholds != nil { outputs.append(["name": "label", "datatype": "INT32", "shape": [-1]]) }
        outputs.append(["name": "anomaly_map", "datatype": "FP32", "shape": [-1, s, s]])
        return ["name": name, "versions": ["1"], "platform": "clipad",
                "parameters": ["method": detector.spec.method.rawValue, "image_size": detector.preprocessor.size, "map_size": s,
                               // How to send `image` as FP32 [B, 3, S, S] instead of encoded files: resize, then (x/255 - mean) / std.
                               "preprocessed_image": ["datatype": "FP32", "shape": [-1, 3, detector.preprocessor.size, detector.preprocessor.size],
                                                      "resize": detector.preprocessor.resize.rawValue,
                                                      "mean": detector.preprocessor.mean.map(Double.init), "std": detector.preprocessor.std.map(Double.init)]],
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

    /// The image part of a multipart inspect body. A part declared image/png or image/jpeg and one declared as anything
    /// else (curl's application/octet-stream for an unknown extension) decode alike: the decoder reads the format
    /// from the magic bytes, as for a raw body.
    static func decodeImagePart(_ data: Data, boundary: String) throws -> Image {
        let part: MultipartBody.Part
        do { part = try MultipartBody(data, boundary: boundary).imagePart() } catch { throw ServerError.badRequest(error.description) }
        let declared = part.contentType.map { " (declared \($0))" } ?? ""
        return try decode(part.body, name: "multipart part '\(part.name ?? part.filename ?? "(unnamed)")'\(declared)")
    }

    // MARK: - Deadlines

    static let timeoutHeader = HTTPField.Name("Request-Timeout-Ms")!

    /// When the answer stops being useful: the request's own timeout (`microseconds` from a v2 `parameters.timeout`,
    /// else the `Request-Timeout-Ms` header), else `--request-timeout-ms`, counted from `arrival`; 0 means none.
    func deadline(_ request: Request, arrival: UInt64, microseconds: Int? = nil) throws -> UInt64? {
        var seconds: Double?
        if let microseconds {
            seconds = Double(microseconds) / 1e6
        } else if let h = request.headers[Self.timeoutHeader] {
            guard let ms = Double(h), ms.isFinite, ms >= 0, ms <= 86_400_000 else {
                throw ServerError.badRequest("header Request-Timeout-Ms '\(h)' is not a number of milliseconds in 0...86400000")
            }
            seconds = ms / 1000
        }
        let s = seconds ?? configuration.requestTimeoutMs / 1000
        return s > 0 ? arrival + UInt64(s * 1e9) : nil
    }

    static let headerLengthField = HTTPField.Name("Inference-Header-Content-Length")!

    func infer(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let arrival = DispatchTime.now().uptimeNanoseconds
        let (name, detector, worker) = try model(context)
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
        let input: ModelWorker.Input
        if let pixels = parsed.pixels {
            let size = detector.preprocessor.size
            guard pixels.shape.count == 4, pixels.shape[0] >= 1, Array(pixels.shape.dropFirst()) == [3, size, size] else {
                throw ServerError.badRequest("input 'image' (FP32) has shape \(pixels.shape), expected [B, 3, \(size), \(size)] "
                    + "(B >= 1; pixels resized and normalised as the metadata's parameters say; or send encoded files as BYTES)")
            }
            input = .pixels(Tensor(shape: pixels.shape, scalars: pixels.values))
        } else {
            input = .images(try parsed.images.enumerated().map { i, d in try Self.decode(d, name: "input 'image' element \(i)") })
        }
        let predictions = try await worker.predict(input, deadline: deadline(request, arrival: arrival, microseconds: parsed.timeoutMicroseconds))

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
        let arrival = DispatchTime.now().uptimeNanoseconds
        let (name, detector, worker) = try model(context)
        let type = request.headers[.contentType] ?? ""
        let mediaType = HeaderParameters(type).value.lowercased()
        guard ["image/png", "image/jpeg", "multipart/form-data"].contains(mediaType) else {
            throw ServerError.unsupportedMediaType(type, expected: "image/png, image/jpeg or multipart/form-data (a part named 'image')")
        }
        let boundary: String?
        do { boundary = mediaType == "multipart/form-data" ? try MultipartBody.boundary(contentType: type) : nil } catch {
            throw ServerError.badRequest(error.description)
        }
        let query = request.uri.queryParameters
        let wantsMap: Bool
        switch query.get("map") {
        case nil: wantsMap = false
        case "png": wantsMap = true
        case let other?: throw ServerError.badRequest("query parameter map='\(other)': the only value is 'png'")
        }
        let scale = try query.get("color_scale").map { value in
            if value == "per-class" {
                throw ServerError.badRequest("query parameter color_scale='per-class' needs the class's other images; the server colours one image at a time (use fixed or per-image)")
            }
            guard let scale = ColorScale(rawValue: value) else {
                throw ServerError.badRequest("query parameter color_scale='\(value)': expected one of \(ColorScale.servable.map(\.rawValue).joined(separator: ", "))")
            }
            return scale
        } ?? ColorScale.fixed
        let data = try await body(request)
        let image = try boundary.map { try Self.decodeImagePart(data, boundary: $0) } ?? Self.decode(data, name: "the request body")
        let p = try await worker.predict([image], deadline: deadline(request, arrival: arrival))[0]
        var out: [String: Any] = [
            "model": name, "score": Double(p.score), "clipad_version": ClipADVersion.current, "map_size": p.mapSide,
            "timings": ["preprocess_seconds": p.timings.preprocessSeconds, "compute_seconds": p.timings.computeSeconds,
                        "wait_seconds": p.timings.waitSeconds],
        ]
        out["label"] = p.label.map { $0 as Any } ?? NSNull()
        out["thresholds"] = p.thresholds.map { ["image": Double($0.image), "pixel": Double($0.pixel)] as Any } ?? NSNull()
        if wantsMap {
            let range = scale.range(of: p.map, natural: detector.naturalMapRange)
            let heat = ColorMap.turbo.colorize(p.map, width: p.mapSide, height: p.mapSide, range: range)
            let overlay = ColorMap.blend(detector.overlayBase(image), heat, alpha: 0.5)
            out["map_png"] = try ImageEncoder.pngData(overlay).base64EncodedString()
            out["colorbar_png"] = try ImageEncoder.pngData(ColorBar.render(height: p.mapSide, range: range, scaleName: scale.barName)).base64EncodedString()
            out["map_range"] = [Double(range.lowerBound), Double(range.upperBound)]
            out["color_scale"] = scale.rawValue
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
    let isModel: @Sendable (String) -> Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        var response: Response
        do {
            // Health probes, the page itself and the API description are open; the page sends the key it is given.
            if let apiKey, !path.hasPrefix("/v2/health/"), path != "/", path != "/openapi.json" {
                let given = request.headers[.authorization] ?? ""
                guard given.hasPrefix("Bearer "), Self.constantTimeEqual(String(given.dropFirst(7)), apiKey) else {
                    throw ServerError.unauthorized
                }
            }
            response = try await next(request, context)
        } catch let error as ServerError {
            response = json(["error": error.description], status: error.status)
            switch error {
            case .queueFull, .shuttingDown: response.headers[.retryAfter] = "1"
            default: break
            }
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
        return isModel(String(parts[2])) ? String(parts[2]) : "_unknown"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
