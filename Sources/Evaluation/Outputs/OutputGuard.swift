import Foundation

/// Refuses output paths that would replace one of the run's inputs (an overlay written over the image it shows
/// when `--output` is the input folder). Paths are compared after resolving `.`/`..` and symbolic links.
public struct OutputGuard: Sendable {
    private let inputs: [String: String]

    public enum OutputError: Error, CustomStringConvertible, Equatable {
        case wouldOverwriteInput(output: String, input: String)
        public var description: String {
            switch self {
            case let .wouldOverwriteInput(output, input):
                return "\(output): refusing to write over an input file (\(input)); choose another --output folder"
            }
        }
    }

    public init(inputs: [String]) {
        var map: [String: String] = [:]
        for path in inputs { map[Self.canonical(path)] = path }
        self.inputs = map
    }

    /// Throws when `path` is one of the inputs.
    public func check(_ path: String) throws {
        if let input = inputs[Self.canonical(path)] {
            throw OutputError.wouldOverwriteInput(output: Self.canonical(path), input: Self.canonical(input))
        }
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
