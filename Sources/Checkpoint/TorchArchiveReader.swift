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

    /// Most tensors + metadata values one archive may name. The pickle memo lets a 65-byte file share one container
    /// 2^30 ways, so the walk first builds a tree that keeps the sharing (one node per container) and counts its
    /// leaves, and only names them when the count is within this bound: the cost follows the file, not the paths.
    static let maxEntries = 100_000

    private struct Collector {
        let zip: ZipArchive
        let mapping: MappedFile
        let fileName: String
        let prefix: String
        var tensors: [String: CheckpointTensor] = [:]
        var metadata: [String: String] = [:]
        /// Storage key -> (byte offset in the file, byte count), resolved once per shared storage.
        var storages: [String: Range<Int>] = [:]

        /// What a value contributes: a tensor or a metadata scalar.
        enum Leaf { case tensor(PickledTensor), scalar(String) }

        /// A value's leaves, shared as the pickle shares containers: named children, or one leaf.
        final class Node {
            let leaf: Leaf?
            let children: [(key: String, node: Node)]
            /// Leaves below, saturating just above `maxEntries`.
            let count: Int
            init(leaf: Leaf) { self.leaf = leaf; children = []; count = 1 }
            init(children: [(key: String, node: Node)]) {
                leaf = nil
                self.children = children
                count = min(children.reduce(0) { $0 + $1.node.count }, TorchArchiveReader.maxEntries + 1)
            }
            static var empty: Node { Node(children: []) }
        }

        /// Containers already walked (values shared through the pickle memo become one node).
        private var walked: [ObjectIdentifier: Node] = [:]

        init(zip: ZipArchive, mapping: MappedFile, fileName: String, prefix: String) {
            self.zip = zip
            self.mapping = mapping
            self.fileName = fileName
            self.prefix = prefix
        }

        private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        /// state dicts, nested dicts, lists: tensors by dotted path, scalars into `metadata`.
        mutating func collectValue(_ value: PickleValue, path: String, depth: Int) throws {
            try store(try node(of: value, path: path, depth: depth))
        }

        /// A TorchScript module: tensor attributes and submodules by dotted path (the `state_dict()` names).
        mutating func collectModule(_ module: PickleObject, path: String, depth: Int) throws {
            try store(try moduleNode(module, path: path, depth: depth))
        }

        private mutating func store(_ root: Node) throws {
            guard root.count <= TorchArchiveReader.maxEntries else {
                throw CheckpointError.unsupported(file: fileName, reason: "the pickle names more than \(TorchArchiveReader.maxEntries) tensors and values (shared containers repeated?); refusing to expand it")
            }
            var named: [(name: String, leaf: Leaf)] = []
            Self.name(root, prefix: "", into: &named)
            for (name, leaf) in named {
                switch leaf {
                case .tensor(let t): try addTensor(t, name: name)
                case .scalar(let s): metadata[name] = s
                }
            }
        }

        /// Dotted names of the leaves below `node` (called only on a tree with at most `maxEntries` leaves; its depth
        /// is bounded by `maxDepth`).
        private static func name(_ node: Node, prefix: String, into out: inout [(name: String, leaf: Leaf)]) {
            if let leaf = node.leaf { out.append((prefix, leaf)); return }
            // A subtree without leaves is skipped: empty containers shared 2^30 ways must cost nothing.
            for (key, child) in node.children where child.count > 0 {
                name(child, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", into: &out)
            }
        }

        private func checkDepth(_ depth: Int, _ what: String, _ path: String) throws {
            guard depth <= TorchArchiveReader.maxDepth else {
                throw CheckpointError.unsupported(file: fileName, reason: "\(what) '\(path)' is nested deeper than \(TorchArchiveReader.maxDepth) levels")
            }
        }

        /// The tree of `value` (`path` is only for messages).
        private mutating func node(of value: PickleValue, path: String, depth: Int) throws -> Node {
            try checkDepth(depth, "value", path)
            switch value {
            case .tensor(let t): return Node(leaf: .tensor(t))
            case .int(let v): return Node(leaf: .scalar(String(v)))
            case .float(let v): return Node(leaf: .scalar(String(v)))
            case .bool(let v): return Node(leaf: .scalar(String(v)))
            case .string(let v): return Node(leaf: .scalar(v))
            case .object(let object) where object.module.hasPrefix("__torch__"):
                return try moduleNode(object, path: path, depth: depth + 1)
            case .dict, .list, .tuple:
                guard let container = value.container else { return .empty }
                let id = ObjectIdentifier(container)
                if let known = walked[id] { return known }
                var children: [(key: String, node: Node)] = []
                switch value {
                case .dict(let dict):
                    for (key, item) in dict.entries {
                        let name: String
                        switch key {
                        case .string(let s): name = s
                        case .int(let i): name = String(i)
                        default: continue  // non-string keys cannot form a dotted name
                        }
                        children.append((name, try node(of: item, path: join(path, name), depth: depth + 1)))
                    }
                case .list(let list):
                    for (i, item) in list.items.enumerated() {
                        children.append((String(i), try node(of: item, path: join(path, String(i)), depth: depth + 1)))
                    }
                case .tuple(let tuple):
                    for (i, item) in tuple.items.enumerated() {
                        children.append((String(i), try node(of: item, path: join(path, String(i)), depth: depth + 1)))
                    }
                default: break
                }
                let made = Node(children: children)
                walked[id] = made
                return made
            default: return .empty
            }
        }

        /// A module's tensor attributes and submodules.
        private mutating func moduleNode(_ module: PickleObject, path: String, depth: Int) throws -> Node {
            try checkDepth(depth, "module", path)
            let id = ObjectIdentifier(module)
            if let known = walked[id] { return known }
            var children: [(key: String, node: Node)] = []
            if case .dict(let attributes)? = module.state {
                for (key, value) in attributes.entries {
                    guard case .string(let name) = key else { continue }
                    switch value {
                    case .tensor(let t): children.append((name, Node(leaf: .tensor(t))))
                    case .object(let child) where child.module.hasPrefix("__torch__"):
                        children.append((name, try moduleNode(child, path: join(path, name), depth: depth + 1)))
                    default: break  // `training`, hooks, ints: not part of the state dict
                    }
                }
            }
            let made = Node(children: children)
            walked[id] = made
            return made
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
