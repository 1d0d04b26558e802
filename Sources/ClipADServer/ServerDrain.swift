import Foundation
import Logging
import ServiceLifecycle

/// The server's shutdown drain. Once begun (SIGTERM / SIGINT), readiness answers 503 "shutting down" and new
/// infer/inspect requests 503 with Retry-After, so a readiness probe or load balancer moves traffic to another
/// replica while this one still answers; requests admitted before it finish normally.
final class ServerDrain: @unchecked Sendable {  // state guarded by `lock`
    private let lock = NSLock()
    private var draining = false
    private var admitted = 0

    var isDraining: Bool { lock.withLock { draining } }

    /// Infer/inspect requests admitted and not yet answered.
    var inFlight: Int { lock.withLock { admitted } }

    /// Starts draining; false when it had already started.
    func begin() -> Bool {
        lock.withLock {
            defer { draining = true }
            return !draining
        }
    }

    /// Runs `work` as an admitted request, or throws `ServerError.shuttingDown` once the drain has begun.
    func admit<T>(_ work: () async throws -> T) async throws -> T {
        try lock.withLock {
            guard !draining else { throw ServerError.shuttingDown }
            admitted += 1
        }
        defer { lock.withLock { admitted -= 1 } }
        return try await work()
    }
}

/// Why a ServiceGroup and not a signal source of our own: a group shuts its services down one at a time in reverse
/// order, so this service, listed after the Hummingbird application, gets the SIGTERM / SIGINT first and the
/// application only once `run` returns. It begins the drain, waits `seconds` while the application still serves
/// (503s for new work, admitted requests finishing), then returns; the application's graceful shutdown (stop
/// accepting, let open requests end) follows.
struct DrainService: Service, CustomStringConvertible {
    let server: InferenceServer
    let seconds: Double
    let logger: Logger

    var description: String { "DrainService" }

    func run() async throws {
        try await gracefulShutdown()
        server.beginDraining()
        logger.notice("shutting down: draining for \(seconds) s (--drain-seconds); \(server.drain.inFlight) request(s) in flight")
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
        logger.notice("drain period over: stopping the server (\(server.drain.inFlight) request(s) still finishing)")
    }
}
