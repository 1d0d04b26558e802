import HTTPTypes
import Hummingbird

/// What a request can do wrong, or the server cannot do for it; each maps to one HTTP status and a JSON
/// `{"error": "..."}` body with a message the client can act on. Bad input is never a 500.
public enum ServerError: Error, CustomStringConvertible, Sendable {
    case badRequest(String)
    case unknownModel(String)
    case modelNotReady(String, reason: String)
    case bodyTooLarge(limit: Int)
    case unsupportedMediaType(String, expected: String)
    case queueFull(model: String, limit: Int)
    /// The request's deadline (`timeout` parameter, `Request-Timeout-Ms` header or `--request-timeout-ms`) passed.
    case deadlineExceeded(model: String, stage: DeadlineStage)
    /// The server is draining after SIGTERM / SIGINT: new work goes to another replica (503 with Retry-After).
    case shuttingDown
    case unauthorized
    case notFound(String)
    case repository(String)
    case `internal`(String)

    public var description: String {
        switch self {
        case .badRequest(let m): return m
        case .unknownModel(let n): return "unknown model '\(n)'"
        case .modelNotReady(let n, let reason): return "model '\(n)' is not ready: \(reason)"
        case .bodyTooLarge(let limit): return "request body is larger than the server's limit of \(limit) bytes (--max-body)"
        case .unsupportedMediaType(let got, let expected): return "unsupported content type '\(got)', expected \(expected)"
        case .queueFull(let model, let limit): return "model '\(model)' has \(limit) requests queued (--max-queue); retry later"
        case .deadlineExceeded(let model, .queue):
            return "the request's deadline passed while it waited for model '\(model)'; it was not computed"
        case .deadlineExceeded(let model, .compute):
            return "the request's deadline passed while model '\(model)' computed it; the result was dropped"
        case .shuttingDown: return "the server is shutting down (draining after SIGTERM); retry on another replica"
        case .unauthorized: return "missing or wrong bearer token (Authorization: Bearer <key>)"
        case .notFound(let path): return "no route \(path)"
        case .repository(let m): return m
        case .internal(let m): return m
        }
    }

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: return .badRequest
        case .unknownModel, .notFound: return .notFound
        case .modelNotReady, .queueFull, .shuttingDown: return .serviceUnavailable
        case .bodyTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .unauthorized: return .unauthorized
        case .deadlineExceeded: return .gatewayTimeout
        case .repository, .internal: return .internalServerError
        }
    }
}

/// Where a request was when its deadline passed.
public enum DeadlineStage: String, Sendable {
    case queue, compute
}
