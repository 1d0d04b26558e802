/// Errors of the PromptAD method, each one line naming the file or setting and the problem.
public enum PromptADError: Error, CustomStringConvertible, Equatable {
    case badConfiguration(String)
    case badModelFile(file: String, reason: String)
    case badPromptInit(file: String, reason: String)
    case badPhrase(String)
    case noShots

    public var description: String {
        switch self {
        case .badConfiguration(let s): return "PromptAD: \(s)"
        case .badModelFile(let file, let reason): return "\(file): \(reason)"
        case .badPromptInit(let file, let reason): return "\(file): \(reason)"
        case .badPhrase(let p): return "anomaly phrase '\(p)' must contain '{}' (where the class name goes) exactly once"
        case .noShots: return "PromptAD needs at least one normal image (--shots)"
        }
    }
}
