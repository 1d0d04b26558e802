import Foundation
import Tensor

/// Writes what `torch.save(obj)` writes (torch >= 1.6 zip format, pickle protocol 2) for nested dicts of
/// tensors, atomically. Layout as torch 2.x: `<name>/data.pkl`, `.format_version`, `.storage_alignment`,
/// `byteorder` ("little"), one `data/<key>` entry per tensor (64-byte aligned), `version` ("3").
/// Tensors are pickled as `torch._utils._rebuild_tensor_v2(persistent storage, 0, size, contiguous stride,
/// False, OrderedDict())`, so `torch.load(weights_only=True)` accepts the file.
public enum TorchSaveWriter {
    /// - Parameter archiveName: the folder inside the zip; default: the file name without extension
    ///   (as torch does), reduced to `[A-Za-z0-9_.-]`.
    public static func write(_ root: TorchValue, to path: String, archiveName: String? = nil) throws {
        let fileName = CheckpointError.displayName(path)
        let name = sanitizedArchiveName(archiveName ?? ((fileName as NSString).deletingPathExtension))

        // MARK: Pickle (assigns storage keys "0", "1", ... in order)
        var pickle = PickleWriter()
        var storages: [TorchValue] = []
        try emit(root, into: &pickle, storages: &storages, path: "", fileName: fileName, depth: 0)
        pickle.stop()

        // MARK: Archive
        let file = try AtomicFileWriter(path: path)
        var zip = ZipWriter(file: file)
        try zip.add("\(name)/data.pkl", pickle.bytes)
        try zip.add("\(name)/.format_version", Array("1".utf8))
        try zip.add("\(name)/.storage_alignment", Array(String(ZipWriter.alignment).utf8))
        try zip.add("\(name)/byteorder", Array("little".utf8))
        for (key, value) in storages.enumerated() {
            try withStorageBytes(value) { try zip.add("\(name)/data/\(key)", $0) }
        }
        try zip.add("\(name)/version", Array("3\n".utf8))
        try zip.finish()
        try file.commit()
    }

    // MARK: - Pickling

    /// Deepest dict nesting written (the reader follows 64).
    static let maxDepth = 64

    private static func emit(_ value: TorchValue, into p: inout PickleWriter, storages: inout [TorchValue],
                             path: String, fileName: String, depth: Int) throws {
        guard depth <= maxDepth else {
            throw CheckpointError.unsupported(file: fileName, reason: "'\(path)' is nested deeper than \(maxDepth) levels")
        }
        func tensor(storageClass: String, shape: [Int], count: Int) throws {
            var elements = 1, overflow = false
            for size in shape where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: size) }
            guard shape.allSatisfy({ $0 >= 0 }), !overflow, elements == count else {
                throw CheckpointError.invalidTensor(file: fileName, name: path, reason: "shape \(shape) does not hold \(count) values")
            }
            let key = String(storages.count)
            storages.append(value)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.mark()
            // persistent id ('storage', torch.<X>Storage, key, 'cpu', numel)
            p.mark()
            p.string("storage")
            p.global("torch", storageClass)
            p.string(key)
            p.string("cpu")
            p.int(count)
            p.tuple()
            p.persistentID()
            p.int(0)  // storage offset
            p.intTuple(shape)
            p.intTuple(contiguousStrides(shape))
            p.bool(false)  // requires_grad
            p.global("collections", "OrderedDict")  // backward hooks
            p.emptyTuple()
            p.reduce()
            p.tuple()
            p.reduce()
        }
        func items(_ entries: [(String, TorchValue)]) throws {
            var seen = Set<String>()
            for (key, _) in entries where !seen.insert(key).inserted {
                throw CheckpointError.invalidTensor(file: fileName, name: path.isEmpty ? key : "\(path).\(key)", reason: "key appears twice in one dict")
            }
            guard !entries.isEmpty else { return }
            p.mark()
            for (key, item) in entries {
                p.string(key)
                try emit(item, into: &p, storages: &storages, path: path.isEmpty ? key : "\(path).\(key)",
                         fileName: fileName, depth: depth + 1)
            }
            p.setItems()
        }
        switch value {
        case .tensor(let t): try tensor(storageClass: "FloatStorage", shape: t.shape, count: t.count)
        case .float16Tensor(let t): try tensor(storageClass: "HalfStorage", shape: t.shape, count: t.count)
        case .int64Tensor(let v, let shape): try tensor(storageClass: "LongStorage", shape: shape, count: v.count)
        case .int32Tensor(let v, let shape): try tensor(storageClass: "IntStorage", shape: shape, count: v.count)
        case .dict(let entries):
            p.emptyDict()
            try items(entries)
        case .orderedDict(let entries):
            p.global("collections", "OrderedDict")
            p.emptyTuple()
            p.reduce()
            try items(entries)
        }
    }

    /// Row-major strides in elements (size-1 dimensions get the product of the later sizes, as torch does).
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = running
            running *= max(shape[i], 1)
        }
        return strides
    }

    // MARK: - Storage bytes

    /// The little-endian bytes of one tensor's storage (raw host memory, so big-endian hosts are refused).
    private static func withStorageBytes(_ value: TorchValue, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        #if _endian(big)
        throw CheckpointError.unsupported(file: "torch archive", reason: "writing from a big-endian host")
        #endif
        switch value {
        case .tensor(let t):
            try t.withData { try body(UnsafeRawBufferPointer($0)) }
        case .float16Tensor(let t):
            let halves = t.withData { $0.map { HalfPrecision.half(from: $0) } }
            try halves.withUnsafeBytes { try body($0) }
        case .int64Tensor(let v, _):
            try v.withUnsafeBytes { try body($0) }
        case .int32Tensor(let v, _):
            try v.withUnsafeBytes { try body($0) }
        case .dict, .orderedDict:
            break
        }
    }

    /// Archive folder names torch accepts and our reader finds: no slashes or odd characters.
    static func sanitizedArchiveName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        let cleaned = String(name.map { allowed.contains($0) ? $0 : "_" })
        return cleaned.isEmpty || cleaned.allSatisfy({ $0 == "." }) ? "archive" : cleaned
    }
}
