/// Errors from AnomalyCLIP model files and settings.
public enum AnomalyCLIPError: Error, CustomStringConvertible {
    case badPromptFile(file: String, reason: String)
    case badConfiguration(String)

    public var description: String {
        switch self {
        case let .badPromptFile(file, reason): return "\(file): \(reason)"
        case let .badConfiguration(reason): return "AnomalyCLIP: \(reason)"
        }
    }
}
