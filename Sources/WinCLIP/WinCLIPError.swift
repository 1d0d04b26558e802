/// Errors of the WinCLIP method, each one line.
public enum WinCLIPError: Error, CustomStringConvertible, Equatable {
    case badConfiguration(String)

    public var description: String {
        switch self {
        case .badConfiguration(let s): return "WinCLIP: \(s)"
        }
    }
}
