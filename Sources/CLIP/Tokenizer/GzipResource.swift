import CZlib
import Foundation

/// Decompresses gzip files with zlib (the tokenizer vocabulary ships as `.txt.gz`, like open_clip's).
enum GzipResource {
    /// Largest decompressed size accepted; the CLIP vocabulary is about 1.4 MB, so this only stops zip bombs.
    static let defaultMaximumSize = 64 << 20

    /// Reads and inflates the gzip file at `url`.
    static func contents(of url: URL, maximumSize: Int = defaultMaximumSize) throws -> [UInt8] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(path: url.path, reason: "\(error.localizedDescription)")
        }
        return try inflate([UInt8](data), name: url.path, maximumSize: maximumSize)
    }

    /// Inflates a complete gzip member (windowBits 16 + MAX_WBITS selects the gzip wrapper).
    static func inflate(_ input: [UInt8], name: String, maximumSize: Int = defaultMaximumSize) throws -> [UInt8] {
        guard !input.isEmpty else { throw TokenizerError.corruptGzip(path: name, reason: "file is empty") }
        var stream = z_stream()
        var status = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw TokenizerError.corruptGzip(path: name, reason: "inflateInit2 failed with status \(status)")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(min(maximumSize, input.count * 4))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var mutableInput = input
        status = mutableInput.withUnsafeMutableBufferPointer { inBuffer -> Int32 in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            var result: Int32 = Z_OK
            while result == Z_OK {
                result = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    let code = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let produced = outBuffer.count - Int(stream.avail_out)
                    output.append(contentsOf: outBuffer[0..<produced])
                    return code
                }
                if output.count > maximumSize { return Z_MEM_ERROR }
                // Z_OK with no input left and no progress means the stream is truncated.
                if result == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 { return Z_BUF_ERROR }
            }
            return result
        }
        switch status {
        case Z_STREAM_END:
            return output
        case Z_MEM_ERROR where output.count > maximumSize:
            throw TokenizerError.corruptGzip(path: name, reason: "decompresses to more than \(maximumSize) bytes")
        case Z_BUF_ERROR:
            throw TokenizerError.corruptGzip(path: name, reason: "stream ends early after \(output.count) bytes")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw TokenizerError.corruptGzip(path: name, reason: message)
        }
    }
}
