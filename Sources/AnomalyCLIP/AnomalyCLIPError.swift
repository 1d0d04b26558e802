/// Errors from AnomalyCLIP model files and settings.
public enum AnomalyCLIPError: Error, CustomStringConvertible {
    case badPromptFile(file: String, reason: String)
    case badConfiguration(String)
    /// A feature-cache file that does not hold what the trainer stored (wrong shapes, missing tensors).
    case badCacheFile(file: String, reason: String)

    public var description: String {
        switch self {
        case let .badPromptFile(file, reason): return "\(file): \(reason)"
        case let .badConfiguration(reason): return "AnomalyCLIP: \(reason)"
        case let .badCacheFile(file, reason): return "\(file): \(reason)"
        }
    }
}
