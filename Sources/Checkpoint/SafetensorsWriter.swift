import Foundation
import Tensor

/// Writes Float32 tensors (stored as F32, F16 or BF16) and string metadata as a safetensors file, atomically:
/// a temp file in the same folder, fsync, then rename. Data is 8-byte aligned like the Rust crate
/// (the JSON header is padded with spaces).
public enum SafetensorsWriter {
    /// - Parameter dtype: storage type: `.float32` (default), `.float16` or `.bfloat16` (round to nearest even).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String,
                             dtype: DType = .float32) throws {
        let fileName = CheckpointError.displayName(path)
        guard [.float32, .float16, .bfloat16].contains(dtype) else {
            throw CheckpointError.unsupported(file: fileName, reason: "writing \(dtype) tensors (use float32, float16 or bfloat16)")
        }
        let names = tensors.keys.sorted()
        if let bad = names.first(where: { $0.isEmpty || $0 == "__metadata__" }) {
            throw CheckpointError.invalidTensor(file: fileName, name: bad, reason: "is not a valid safetensors tensor name")
        }

        // MARK: Header
        var header = "{"
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            header += "\"__metadata__\":{\(items.joined(separator: ","))}"
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            let size = t.count * dtype.byteSize
            if header.count > 1 { header += "," }
            header += "\(jsonString(name)):{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        // MARK: Temp file, then rename
        let file = try AtomicFileWriter(path: path)
        var length = UInt64(headerBytes.count).littleEndian
        try withUnsafeBytes(of: &length) { try file.write($0) }
        try file.write(headerBytes)
        var chunk = [UInt16](repeating: 0, count: 1 << 16)
        for name in names {
            guard let t = tensors[name] else { continue }
            if dtype == .float32 {
                try t.withData { try file.write(UnsafeRawBufferPointer($0)) }
                continue
            }
            // convert in chunks to keep memory flat
            try t.withData { src in
                var start = 0
                while start < src.count {
                    let n = min(chunk.count, src.count - start)
                    for i in 0..<n {
                        chunk[i] = dtype == .float16 ? HalfPrecision.half(from: src[start + i]).littleEndian
                                                     : HalfPrecision.bfloat16(from: src[start + i]).littleEndian
                    }
                    try chunk.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<(n * 2)])) }
                    start += n
                }
            }
        }
        try file.commit()
    }
}
