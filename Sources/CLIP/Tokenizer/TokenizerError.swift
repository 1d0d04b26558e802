/// Errors raised while loading the CLIP tokenizer's vocabulary.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The bundled vocabulary resource is missing from the CLIP module bundle.
    case missingResource(String)
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// The gzip stream is damaged, truncated or unreasonably large.
    case corruptGzip(path: String, reason: String)
    /// The decompressed vocabulary does not have the expected shape.
    case malformedVocabulary(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingResource(let name):
            return "\(name): tokenizer vocabulary resource not found in the CLIP bundle"
        case .unreadable(let path, let reason):
            return "\(path): cannot read tokenizer vocabulary (\(reason))"
        case .corruptGzip(let path, let reason):
            return "\(path): corrupt gzip stream (\(reason))"
        case .malformedVocabulary(let path, let reason):
            return "\(path): malformed BPE vocabulary (\(reason))"
        }
    }
}
