import FileAccess
import Checkpoint
import Foundation

/// Reads and writes float32 `.npy` files (NumPy format 1.0, little-endian '<f4', C order) for anomaly maps.
public enum NumpyArrayFile {
    public struct FormatError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"

    /// The file's bytes for a float32 array of `shape`.
    public static func encode(_ values: UnsafeBufferPointer<Float>, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Pad with spaces so magic + version + length + header + newline is a multiple of 64.
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic)
        data.append(contentsOf: [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(header.data(using: .ascii)!)
        values.withMemoryRebound(to: UInt8.self) { data.append($0) }   // x86-64 and arm64 are little-endian
        return data
    }

    /// Writes atomically (temp file + rename).
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        precondition(values.count == shape.reduce(1, *), "npy: \(values.count) values for shape \(shape)")
        let data = values.withUnsafeBufferPointer { encode($0, shape: shape) }
        try AtomicFileWriter.write(data, to: path)
    }

    /// Reads a float32 (or float64, converted) array; returns values and shape.
    public static func read(path: String) throws -> (values: [Float], shape: [Int]) {
        let data: Data
        do { data = try ReadableFile.read(path) } catch let error as FileAccessError {
            throw FormatError(path: path, reason: error.reason)
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw FormatError(path: path, reason: "not a .npy file") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        } else if major == 2 || major == 3, bytes.count >= 12 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; headerStart = 12
        } else {
            throw FormatError(path: path, reason: "unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .ascii) else {
            throw FormatError(path: path, reason: "truncated .npy header")
        }
        let isF4 = header.contains("'<f4'"), isF8 = header.contains("'<f8'")
        guard isF4 || isF8 else { throw FormatError(path: path, reason: "expected float32 or float64 data, header \(header.trimmingCharacters(in: .whitespacesAndNewlines))") }
        guard !header.contains("'fortran_order': True") else { throw FormatError(path: path, reason: "Fortran-order arrays are not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw FormatError(path: path, reason: "no shape in .npy header")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength, width = isF4 ? 4 : 8
        guard count >= 0, bytes.count - start == count * width else {
            throw FormatError(path: path, reason: "data holds \(bytes.count - start) bytes, shape \(shape) needs \(count * width)")
        }
        let values: [Float] = bytes.withUnsafeBytes { raw in
            (0..<count).map { i in
                isF4 ? raw.loadUnaligned(fromByteOffset: start + 4 * i, as: Float.self)
                     : Float(raw.loadUnaligned(fromByteOffset: start + 8 * i, as: Double.self))
            }
        }
        return (values, shape)
    }
}
