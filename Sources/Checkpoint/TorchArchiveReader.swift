import Tensor

/// Reads `torch.save` zip archives (torch >= 1.6) and `torch.jit.save` TorchScript archives: finds the
/// archive folder, unpickles `data.pkl` with the restricted `Unpickler`, and maps storages to
/// `<archive>/data/<key>` entries in place.
enum TorchArchiveReader {
    /// Deepest nesting of dicts / modules followed when collecting tensors (hostile files can nest deeper).
    static let maxDepth = 64

    static func read(mapping: MappedFile, fileName: String) throws -> (CheckpointFormat, [String: CheckpointTensor], [String: String]) {
        let zip = try ZipArchive(bytes: mapping.bytes, fileName: fileName)

        // The archive folder is whatever prefix `data.pkl` has (`archive/`, `model/`, the file's stem, ...).
        let pickles = zip.entries.map(\.name).filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard let pickleName = pickles.min(by: { $0.count < $1.count }) else {
            throw CheckpointError.corrupt(file: fileName, reason: "zip archive has no data.pkl entry (not a torch checkpoint)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        let isTorchScript = zip.entries.contains { $0.name.hasPrefix(prefix + "code/") || $0.name == prefix + "constants.pkl" }

        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.data(of: order), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text != "big" else {
                throw CheckpointError.unsupported(file: fileName, reason: "big-endian torch archive")
            }
        }

        guard let pickleEntry = zip.entry(named: pickleName) else {
            throw CheckpointError.corrupt(file: fileName, reason: "zip entry '\(pickleName)' vanished")
        }
        var unpickler = Unpickler(bytes: try zip.data(of: pickleEntry), fileName: fileName, entryName: pickleName)
        let root = try unpickler.load()

        var collector = Collector(zip: zip, mapping: mapping, fileName: fileName, prefix: prefix)
        if isTorchScript {
            guard case .object(let module) = root else {
                throw CheckpointError.corrupt(file: fileName, reason: "TorchScript data.pkl holds a \(root.kind), not a module")
            }
            try collector.collectModule(module, path: "", depth: 0)
            return (.torchScript, collector.tensors, collector.metadata)
        }
        try collector.collectValue(root, path: "", depth: 0)
        return (.torchZip, collector.tensors, collector.metadata)
    }

    // MARK: - Collecting tensors

    private struct Collector {
        let zip: ZipArchive
        let mapping: MappedFile
        let fileName: String
        let prefix: String
        var tensors: [String: CheckpointTensor] = [:]
        var metadata: [String: String] = [:]
        /// Storage key -> (byte offset in the file, byte count), resolved once per shared storage.
        var storages: [String: Range<Int>] = [:]

        private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        /// state dicts, nested dicts, lists: tensors by dotted path, scalars into `metadata`.
        mutating func collectValue(_ value: PickleValue, path: String, depth: Int) throws {
            guard depth <= TorchArchiveReader.maxDepth else {
                throw CheckpointError.unsupported(file: fileName, reason: "'\(path)' is nested deeper than \(TorchArchiveReader.maxDepth) levels")
            }
            switch value {
            case .tensor(let t):
                try addTensor(t, name: path)
            case .dict(let dict):
                for (key, item) in dict.entries {
                    let name: String
                    switch key {
                    case .string(let s): name = s
                    case .int(let i): name = String(i)
                    default: continue  // non-string keys cannot form a dotted name
                    }
                    try collectValue(item, path: join(path, name), depth: depth + 1)
                }
            case .list(let list):
                for (i, item) in list.items.enumerated() { try collectValue(item, path: join(path, String(i)), depth: depth + 1) }
            case .tuple(let tuple):
                for (i, item) in tuple.items.enumerated() { try collectValue(item, path: join(path, String(i)), depth: depth + 1) }
            case .object(let object) where object.module.hasPrefix("__torch__"):
                try collectModule(object, path: path, depth: depth + 1)
            case .int(let v): metadata[path] = String(v)
            case .float(let v): metadata[path] = String(v)
            case .bool(let v): metadata[path] = String(v)
            case .string(let v): metadata[path] = v
            default: break
            }
        }

        /// A TorchScript module: tensor attributes and submodules by dotted path (the `state_dict()` names).
        mutating func collectModule(_ module: PickleObject, path: String, depth: Int) throws {
            guard depth <= TorchArchiveReader.maxDepth else {
                throw CheckpointError.unsupported(file: fileName, reason: "module '\(path)' is nested deeper than \(TorchArchiveReader.maxDepth) levels")
            }
            guard case .dict(let attributes)? = module.state else { return }
            for (key, value) in attributes.entries {
                guard case .string(let name) = key else { continue }
                switch value {
                case .tensor(let t): try addTensor(t, name: join(path, name))
                case .object(let child) where child.module.hasPrefix("__torch__"):
                    try collectModule(child, path: join(path, name), depth: depth + 1)
                default: break  // `training`, hooks, ints: not part of the state dict
                }
            }
        }

        private mutating func addTensor(_ t: PickledTensor, name: String) throws {
            let key = t.storage.key
            let range: Range<Int>
            if let known = storages[key] {
                range = known
            } else {
                let entryName = prefix + "data/" + key
                guard let entry = zip.entry(named: entryName) else {
                    throw CheckpointError.corrupt(file: fileName, reason: "tensor '\(name)' uses storage '\(key)' but the archive has no entry '\(entryName)'")
                }
                range = try zip.dataRange(of: entry)
                storages[key] = range
            }
            let (needed, overflow) = t.storage.elementCount.multipliedReportingOverflow(by: t.storage.dtype.byteSize)
            guard !overflow, needed <= range.count else {
                throw CheckpointError.corrupt(file: fileName, reason: "tensor '\(name)': storage '\(key)' declares \(t.storage.elementCount) \(t.storage.dtype) elements but its entry has \(range.count) bytes")
            }
            tensors[name] = try CheckpointTensor(
                name: name, dtype: t.storage.dtype, shape: t.shape, strides: t.strides, storageOffset: t.storageOffset,
                fileName: fileName, mapping: mapping, storageByteOffset: range.lowerBound,
                storageElementCount: t.storage.elementCount)
        }
    }
}
