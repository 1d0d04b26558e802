import FileAccess
import ArgumentParser
import ClipADServer
import Dispatch
import Foundation
import Logging

/// `clipad serve`: KServe v2 / Open Inference Protocol (+ inspect and metrics) over HTTP for a model repository.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model repository over HTTP (KServe v2 / Open Inference Protocol, /v1/models/NAME/inspect, /metrics, the operator's page at /).",
        discussion: """
            SIGTERM / SIGINT: drain, then shut down gracefully. For --drain-seconds /v2/health/ready answers 503 \
            {"ready": false, "reason": "shutting down"} and new infer/inspect requests 503 with Retry-After (a load balancer \
            retries them on another replica) while requests already admitted finish; then the server stops accepting, lets \
            open requests end (at most \(Int(ServerConfiguration().shutdownGraceSeconds)) s more) and exits 0. SIGHUP: reload the model repository.
            """)

    @Option(help: "Folder with one sub-folder per model (spec.json, or a single PromptAD model file).") var modelRepository: String
    @Option(help: "Address to bind (loopback by default; 0.0.0.0 to listen on every interface).") var host: String = "127.0.0.1"
    @Option(help: "Port (0: any free port, printed at start).") var port: Int = 8000
    @Option(help: "Largest request body in bytes (413 above).") var maxBody: Int = 32 << 20
    @Option(help: "Requests waiting per model (503 with Retry-After above).") var maxQueue: Int = 64
    @Option(help: "Images per batched forward pass.") var maxBatch: Int = 8
    @Option(help: "Milliseconds a batch may wait to fill.") var maxQueueDelayMs: Double = 0
    @Option(help: "Deadline in ms for a request that names none (0: none); past it 504, and a queued request is not computed.")
    var requestTimeoutMs: Double = 0
    @Option(help: "File holding a bearer token every route except health requires.") var apiKeyFile: String?
    @Option(help: "Seconds to drain after SIGTERM / SIGINT before shutting down: readiness 503, new requests 503 with Retry-After (0: no wait).")
    var drainSeconds: Double = 5

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if maxBody < 1 || maxQueue < 1 || maxBatch < 1 { throw ValidationError("--max-body, --max-queue and --max-batch must be positive") }
        if maxQueueDelayMs < 0 { throw ValidationError("--max-queue-delay-ms must not be negative") }
        if !(0...86_400_000).contains(requestTimeoutMs) { throw ValidationError("--request-timeout-ms must be 0...86400000") }
        if !(0...3600).contains(drainSeconds) { throw ValidationError("--drain-seconds must be 0...3600") }
    }

    func run() throws {
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        config.maxBody = maxBody
        config.maxQueue = maxQueue
        config.maxBatch = maxBatch
        config.maxQueueDelayMs = maxQueueDelayMs
        config.requestTimeoutMs = requestTimeoutMs
        config.drainSeconds = drainSeconds
        if let apiKeyFile {
            let text: String
            do { text = try ReadableFile.text(apiKeyFile) } catch let error as FileAccessError {
                throw ValidationError("--api-key-file \(apiKeyFile): cannot read the file: \(error.reason)")
            }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw ValidationError("--api-key-file \(apiKeyFile) is empty") }
            config.apiKey = key
        }
        let logger = Logger(label: "clipad.serve")
        let repository = try ModelRepository.load(folder: modelRepository, logger: logger)
        let server = InferenceServer(repository: repository, configuration: config, logger: logger)
        let ready = repository.entries.values.filter(\.isReady).count
        // `clipad`'s main is synchronous (it may re-execute itself first): run the async server and wait for it.
        let settings = config
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task.detached {
            do {
                try await server.run { channel in
                    let port = channel.localAddress?.port ?? settings.port
                    print("clipad serve: \(ready) of \(repository.entries.count) model(s) ready at http://\(settings.host):\(port)")
                    fflush(stdout)
                }
            } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw error }
    }
}

/// The server task's error, read after it signalled.
private final class ErrorBox: @unchecked Sendable {  // written once before the semaphore signals, read after
    var error: Error?
}
