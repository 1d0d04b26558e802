import Foundation
import Tensor

/// Reads safetensors files: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`), then the data section, mapped in place.
enum SafetensorsReader {
    /// The Rust crate refuses headers above 100 MB; so do we (and never above the file size).
    static let maxHeaderBytes = 100_000_000
    /// Most tensors a file may hold (the largest real checkpoints have a few thousand), and most JSON members and
    /// array items the header may have in all: counted on the raw bytes before anything is parsed, so a header of
    /// a million tiny entries is refused in milliseconds instead of building gigabytes of dictionaries.
    static let maxTensors = 100_000
    static let maxHeaderItems = 2_000_000

    /// Whether the bytes look like a safetensors file (used when sniffing the format): the JSON header's
    /// opening brace after the 8-byte length. The length itself is validated by `read`, with a precise error.
    static func looksLikeSafetensors(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 9 && bytes[8] == UInt8(ascii: "{")
    }

    static func read(mapping: MappedFile, fileName: String) throws -> ([String: CheckpointTensor], [String: String]) {
        let corrupt = { (reason: String) in CheckpointError.corrupt(file: fileName, reason: "safetensors: \(reason)") }
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw corrupt("file has \(bytes.count) bytes, fewer than the 8-byte header length") }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(bytes.count - 8) else {
            throw corrupt("header length \(declared) runs past the end of the file (\(bytes.count) bytes)")
        }
        guard declared <= UInt64(maxHeaderBytes) else { throw corrupt("header length \(declared) exceeds 100 MB") }
        let headerLength = Int(declared)
        let dataStart = 8 + headerLength
        let dataCount = bytes.count - dataStart
        let rawHeader = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let (entries, items) = countItems(rawHeader)
        guard entries <= maxTensors + 1 else {  // + 1: __metadata__
            throw corrupt("header has \(entries) entries, more than the \(maxTensors) tensors a file may hold")
        }
        guard items <= maxHeaderItems else {
            throw corrupt("header has \(items) JSON members and array items, more than \(maxHeaderItems)")
        }
        let headerBytes = Data(rawHeader)

        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw corrupt("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw corrupt("header is not a JSON object") }

        var tensors: [String: CheckpointTensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in map {
                    guard let s = v as? String else { throw corrupt("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            let bad = { (reason: String) in corrupt("tensor '\(name)': \(reason)") }
            guard let info = value as? [String: Any] else { throw bad("entry is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw bad("missing dtype") }
            guard let dtype = DType(safetensorsName: dtypeName) else {
                throw CheckpointError.unsupported(file: fileName, reason: "tensor '\(name)' has dtype \(dtypeName)")
            }
            guard let shape = integers(info["shape"]), shape.count <= 64 else { throw bad("shape is not a list of integers") }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw bad("data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw bad("data_offsets [\(begin), \(end)] outside the data section (\(dataCount) bytes)")
            }
            var count = 1
            for dim in shape {
                guard dim >= 0 else { throw bad("negative dimension in shape \(shape)") }
                let (c, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw bad("shape \(shape) overflows") }
                count = c
            }
            let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytesNeeded == end - begin else {
                throw bad("shape \(shape) of \(dtypeName) needs \(count) x \(dtype.byteSize) bytes but data_offsets span \(end - begin)")
            }
            tensors[name] = try CheckpointTensor(
                name: name, dtype: dtype, shape: shape, strides: rowMajorStrides(shape), storageOffset: 0,
                fileName: fileName, mapping: mapping, storageByteOffset: dataStart + begin, storageElementCount: count)
        }
        return (tensors, metadata)
    }

    /// Counts, outside strings, the members of the top-level object (its `:`) and all members and array items
    /// (every `:` and `,`). Not a validator: malformed JSON is still left to the parser.
    static func countItems(_ json: UnsafeRawBufferPointer) -> (topLevel: Int, all: Int) {
        var depth = 0, topLevel = 0, all = 0
        var inString = false, escaped = false
        for byte in json {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":"):
                all += 1
                if depth == 1 { topLevel += 1 }
            case UInt8(ascii: ","): all += 1
            default: break
            }
        }
        return (topLevel, all)
    }

    /// A JSON array of non-fractional numbers as Ints (nil for anything else).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            guard let number = item as? NSNumber else { return nil }
            if let int = item as? Int, Double(int) == number.doubleValue {
                result.append(int)  // exact integers, however large (bounds are checked by the caller)
                continue
            }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9.0e15, let int = Int(exactly: double) else { return nil }
            result.append(int)
        }
        return result
    }

    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc = acc &* max(shape[i], 1)
        }
        return strides
    }
}
