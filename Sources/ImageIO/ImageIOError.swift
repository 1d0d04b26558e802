import Foundation

/// Errors reading or writing images; the one-line message names the file and the problem.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read (missing, permissions, a directory).
    case unreadable(path: String, reason: String)
    /// The bytes are neither PNG nor JPEG (by their magic bytes).
    case unsupportedFormat(path: String)
    /// The decoder rejected the data (truncated, bad CRC, bad Huffman table, ...), with its message.
    case corrupt(path: String, reason: String)
    /// A side beyond `ImageDecoder.maxSide`, or more pixels than `ImageDecoder.maxPixels`.
    case tooLarge(path: String, width: Int, height: Int)
    /// Encoding or writing failed.
    case writeFailed(path: String, reason: String)
    /// A resize (or preprocessing) target outside the accepted sides, e.g. the long side of a shortest-side resize
    /// of a 1x29999 strip; `what` says which operation asked for it.
    case badSize(what: String, width: Int, height: Int, allowed: ClosedRange<Int>)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read image: \(reason)"
        case let .unsupportedFormat(path): return "\(path): not a PNG or JPEG image (unrecognised leading bytes)"
        case let .corrupt(path, reason): return "\(path): corrupt image: \(reason)"
        case let .tooLarge(path, w, h):
            return "\(path): image is \(w)x\(h), beyond the limits (\(ImageDecoder.maxSide) px a side, \(ImageDecoder.maxPixels) pixels)"
        case let .writeFailed(path, reason): return "\(path): cannot write image: \(reason)"
        case let .badSize(what, w, h, allowed):
            return "\(what): target \(w)x\(h) is outside \(allowed.lowerBound)...\(allowed.upperBound) pixels a side"
        }
    }
}
