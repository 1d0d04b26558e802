/// A restricted pickle virtual machine for `data.pkl` inside torch zip and TorchScript archives.
///
/// It EXECUTES NOTHING: globals are resolved against an allow-list to symbolic values; the few torch
/// rebuild functions are interpreted here; any other global is an error naming it. Follows the opcode
/// semantics of CPython's `pickle.py` (protocols 0-5, the subset torch writes).
struct Unpickler {
    private var reader: ByteReader
    private let fileName: String
    private let entryName: String
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, fileName: String, entryName: String) {
        let corrupt = { (reason: String) in CheckpointError.corrupt(file: fileName, reason: "\(entryName): \(reason)") }
        reader = ByteReader(bytes, fail: corrupt)
        self.fileName = fileName
        self.entryName = entryName
    }

    // MARK: - Errors

    private func corrupt(_ reason: String) -> CheckpointError {
        .corrupt(file: fileName, reason: "\(entryName): \(reason)")
    }

    private func unsupported(_ reason: String) -> CheckpointError {
        .unsupported(file: fileName, reason: "\(entryName): \(reason)")
    }

    // MARK: - Stack

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw corrupt("pickle stack underflow at byte \(reader.position)") }
        if let mark = marks.last, stack.count < mark { throw corrupt("pickle pops past a MARK at byte \(reader.position)") }
        return value
    }

    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw corrupt("pickle has no MARK at byte \(reader.position)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func top() throws -> PickleValue {
        guard let value = stack.last else { throw corrupt("pickle stack empty at byte \(reader.position)") }
        return value
    }

    // MARK: - Run

    /// Runs the pickle to its STOP opcode and returns the result.
    mutating func load() throws -> PickleValue {
        do {
            return try run()
        } catch PickleNestingError.tooDeep(let depth) {
            throw unsupported("pickle nests containers \(depth) levels deep (limit \(PickleContainer.maxDepth)) at byte \(reader.position)")
        } catch PickleNestingError.modifiedAfterNesting(let kind) {
            throw unsupported("pickle modifies a \(kind) after nesting it in another container (recursive structure) at byte \(reader.position)")
        }
    }

    private mutating func run() throws -> PickleValue {
        while true {
            let opcodeAt = reader.position
            let op = try reader.u8("pickle opcode")
            switch op {
            case 0x80: _ = try reader.u8("protocol")                        // PROTO
            case 0x95: _ = try reader.u64("frame size")                     // FRAME (frames are just inline bytes)
            case 0x2E: return try pop()                                    // STOP '.'

            // MARK: constants and numbers
            case 0x4E: stack.append(.none)                                  // NONE 'N'
            case 0x88: stack.append(.bool(true))                           // NEWTRUE
            case 0x89: stack.append(.bool(false))                          // NEWFALSE
            case 0x4B: stack.append(.int(Int(try reader.u8("BININT1"))))   // BININT1 'K'
            case 0x4D: stack.append(.int(Int(try reader.u16("BININT2"))))  // BININT2 'M'
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: try reader.u32("BININT")))))  // BININT 'J'
            case 0x8A:                                                      // LONG1
                let n = Int(try reader.u8("LONG1 size"))
                stack.append(.int(try littleEndianInteger(try reader.take(n, "LONG1"))))
            case 0x8B:                                                      // LONG4
                let n = Int(Int32(bitPattern: try reader.u32("LONG4 size")))
                stack.append(.int(try littleEndianInteger(try reader.take(n, "LONG4"))))
            case 0x47:                                                      // BINFLOAT 'G' (big-endian)
                let raw = try reader.take(8, "BINFLOAT")
                stack.append(.float(Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)))))
            case 0x49:                                                      // INT 'I' (text; 00/01 are bools)
                let line = try readLine("INT")
                if line == "00" || line == "01" { stack.append(.bool(line == "01")) }
                else if let v = Int(line) { stack.append(.int(v)) }
                else { throw corrupt("bad INT '\(line.prefix(40))'") }
            case 0x4C:                                                      // LONG 'L' (text)
                let line = try readLine("LONG")
                guard let v = Int(line.hasSuffix("L") ? String(line.dropLast()) : line) else {
                    throw unsupported("LONG '\(line.prefix(40))' does not fit in 64 bits")
                }
                stack.append(.int(v))
            case 0x46:                                                      // FLOAT 'F' (text)
                let line = try readLine("FLOAT")
                guard let v = Double(line) else { throw corrupt("bad FLOAT '\(line.prefix(40))'") }
                stack.append(.float(v))

            // MARK: strings and bytes
            case 0x58: stack.append(.string(try text(Int(try reader.u32("BINUNICODE size")), "BINUNICODE")))
            case 0x8C: stack.append(.string(try text(Int(try reader.u8("SHORT_BINUNICODE size")), "SHORT_BINUNICODE")))
            case 0x8D: stack.append(.string(try text(try reader.size64("BINUNICODE8 size"), "BINUNICODE8")))
            case 0x54: stack.append(.string(try latin1(Int(Int32(bitPattern: try reader.u32("BINSTRING size"))), "BINSTRING")))
            case 0x55: stack.append(.string(try latin1(Int(try reader.u8("SHORT_BINSTRING size")), "SHORT_BINSTRING")))
            case 0x42: stack.append(.bytes(Array(try reader.take(Int(try reader.u32("BINBYTES size")), "BINBYTES"))))
            case 0x43: stack.append(.bytes(Array(try reader.take(Int(try reader.u8("SHORT_BINBYTES size")), "SHORT_BINBYTES"))))
            case 0x8E: stack.append(.bytes(Array(try reader.take(try reader.size64("BINBYTES8 size"), "BINBYTES8"))))
            case 0x96: stack.append(.bytes(Array(try reader.take(try reader.size64("BYTEARRAY8 size"), "BYTEARRAY8"))))

            // MARK: containers
            case 0x28: marks.append(stack.count)                            // MARK '('
            case 0x29: stack.append(.tuple(try PickleTuple([])))            // EMPTY_TUPLE ')'
            case 0x74: stack.append(.tuple(try PickleTuple(try popToMark()))) // TUPLE 't'
            case 0x85: let a = try pop(); stack.append(.tuple(try PickleTuple([a])))  // TUPLE1
            case 0x86: let b = try pop(); let a = try pop(); stack.append(.tuple(try PickleTuple([a, b])))  // TUPLE2
            case 0x87:                                                      // TUPLE3
                let c = try pop(); let b = try pop(); let a = try pop()
                stack.append(.tuple(try PickleTuple([a, b, c])))
            case 0x5D: stack.append(.list(try PickleList()))                // EMPTY_LIST ']'
            case 0x6C: stack.append(.list(try PickleList(try popToMark()))) // LIST 'l'
            case 0x7D: stack.append(.dict(PickleDict()))                    // EMPTY_DICT '}'
            case 0x64:                                                      // DICT 'd'
                let items = try popToMark()
                stack.append(.dict(try makeDict(items)))
            case 0x8F: stack.append(.list(try PickleList()))                // EMPTY_SET (kept as a list)
            case 0x91: stack.append(.list(try PickleList(try popToMark()))) // FROZENSET
            case 0x61:                                                      // APPEND 'a'
                let value = try pop()
                guard case .list(let list) = try top() else { throw corrupt("APPEND to a \(try top().kind)") }
                try list.append(contentsOf: [value])
            case 0x65, 0x90:                                                // APPENDS 'e', ADDITEMS
                let items = try popToMark()
                guard case .list(let list) = try top() else { throw corrupt("APPENDS to a \(try top().kind)") }
                try list.append(contentsOf: items)
            case 0x73:                                                      // SETITEM 's'
                let value = try pop()
                let key = try pop()
                guard case .dict(let dict) = try top() else { throw corrupt("SETITEM on a \(try top().kind)") }
                try dict.set(key, value)
            case 0x75:                                                      // SETITEMS 'u'
                let items = try popToMark()
                guard items.count % 2 == 0 else { throw corrupt("SETITEMS with an odd number of items") }
                guard case .dict(let dict) = try top() else { throw corrupt("SETITEMS on a \(try top().kind)") }
                for i in stride(from: 0, to: items.count, by: 2) { try dict.set(items[i], items[i + 1]) }

            // MARK: stack manipulation and memo
            case 0x30: _ = try pop()                                        // POP '0'
            case 0x31: _ = try popToMark()                                  // POP_MARK '1'
            case 0x32: stack.append(try top())                              // DUP '2'
            case 0x71: memo[Int(try reader.u8("BINPUT"))] = try top()       // BINPUT 'q'
            case 0x72: memo[Int(try reader.u32("LONG_BINPUT"))] = try top() // LONG_BINPUT 'r'
            case 0x94: memo[memo.count] = try top()                         // MEMOIZE
            case 0x70:                                                      // PUT 'p' (text)
                guard let i = Int(try readLine("PUT")) else { throw corrupt("bad PUT index") }
                memo[i] = try top()
            case 0x68: stack.append(try memoValue(Int(try reader.u8("BINGET"))))        // BINGET 'h'
            case 0x6A: stack.append(try memoValue(Int(try reader.u32("LONG_BINGET"))))  // LONG_BINGET 'j'
            case 0x67:                                                      // GET 'g' (text)
                guard let i = Int(try readLine("GET")) else { throw corrupt("bad GET index") }
                stack.append(try memoValue(i))

            // MARK: globals, calls and objects
            case 0x63:                                                      // GLOBAL 'c'
                let module = try readLine("GLOBAL module")
                let name = try readLine("GLOBAL name")
                stack.append(try global(module: module, name: name))
            case 0x93:                                                      // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw corrupt("STACK_GLOBAL needs two strings, got \(module.kind) and \(name.kind)")
                }
                stack.append(try global(module: m, name: n))
            case 0x52:                                                      // REDUCE 'R'
                let arguments = try pop()
                let callable = try pop()
                guard let args = arguments.sequence else { throw corrupt("REDUCE arguments are a \(arguments.kind)") }
                stack.append(try call(callable, args))
            case 0x81:                                                      // NEWOBJ
                let arguments = try pop()
                let cls = try pop()
                guard let args = arguments.sequence else { throw corrupt("NEWOBJ arguments are a \(arguments.kind)") }
                stack.append(try call(cls, args))
            case 0x92:                                                      // NEWOBJ_EX
                _ = try pop()  // kwargs
                let arguments = try pop()
                let cls = try pop()
                stack.append(try call(cls, arguments.sequence ?? []))
            case 0x62:                                                      // BUILD 'b'
                let state = try pop()
                if case .object(let object) = try top() { try object.setState(state) }
                // dicts (OrderedDict `_metadata`) and tensors ignore their state
            case 0x51:                                                      // BINPERSID 'Q'
                stack.append(try persistentLoad(try pop()))
            case 0x50:                                                      // PERSID 'P' (text)
                throw unsupported("text persistent id (PERSID) at byte \(opcodeAt)")
            default:
                throw unsupported("pickle opcode 0x\(String(op, radix: 16)) at byte \(opcodeAt)")
            }
        }
    }

    // MARK: - Reading helpers

    private mutating func text(_ count: Int, _ what: String) throws -> String {
        String(decoding: try reader.take(count, what), as: UTF8.self)
    }

    private mutating func latin1(_ count: Int, _ what: String) throws -> String {
        String(try reader.take(count, what).map { Character(Unicode.Scalar($0)) })
    }

    /// A newline-terminated text argument (GLOBAL, INT, ...), at most 1 KiB.
    private mutating func readLine(_ what: String) throws -> String {
        let start = reader.position
        let limit = min(reader.bytes.count, start + 1024)
        var end = start
        while end < limit && reader.bytes[end] != 0x0A { end += 1 }
        guard end < limit else { throw corrupt("unterminated \(what) at byte \(start)") }
        let line = try text(end - start, what)
        reader.position = end + 1
        return line
    }

    private func littleEndianInteger(_ raw: UnsafeRawBufferPointer) throws -> Int {
        guard raw.count <= 8 else { throw unsupported("integer of \(raw.count) bytes does not fit in 64 bits") }
        guard !raw.isEmpty else { return 0 }
        var value: UInt64 = 0
        for (i, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        if raw.count < 8, raw[raw.count - 1] & 0x80 != 0 { value |= ~UInt64(0) << (8 * UInt64(raw.count)) }  // sign-extend
        return Int(Int64(bitPattern: value))
    }

    private func memoValue(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw corrupt("memo key \(index) used before it was stored") }
        return value
    }

    private func makeDict(_ items: [PickleValue]) throws -> PickleDict {
        guard items.count % 2 == 0 else { throw corrupt("DICT with an odd number of items") }
        let dict = PickleDict()
        for i in stride(from: 0, to: items.count, by: 2) { try dict.set(items[i], items[i + 1]) }
        return dict
    }

    // MARK: - Allow-list

    /// Callables interpreted here (their Python code never runs).
    private static let allowedGlobals: Set<String> = [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
        "torch.nn.parameter.Parameter", "torch.Tensor", "torch.Size", "torch.device",
        "collections.OrderedDict", "builtins.set", "builtins.frozenset", "__builtin__.set",
        "torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
        // numpy scalars in training checkpoints ("best_acc": np.float64(...)); protocol 2 pickles their raw
        // bytes as _codecs.encode(latin-1 text)
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype", "_codecs.encode",
    ]

    /// `torch.<dtype>` values (e.g. a stored `dtype` attribute): opaque.
    private static let torchDTypeNames: Set<String> = [
        "float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool",
    ]

    private func global(module: String, name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        let allowed = module == "__torch__" || module.hasPrefix("__torch__.")
            || Unpickler.allowedGlobals.contains(full)
            || (module == "torch" && (DType(torchStorageClass: name) != nil || Unpickler.torchDTypeNames.contains(name)))
        guard allowed else { throw CheckpointError.forbiddenGlobal(file: fileName, global: full) }
        return .global(module: module, name: name)
    }

    // MARK: - Interpreted calls

    private func call(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw unsupported("call of a \(callable.kind), which is not a global")
        }
        switch "\(module).\(name)" {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            return .tensor(try rebuildTensor(args))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = args.first, case .tensor = data else { throw corrupt("_rebuild_parameter without a tensor") }
            return data
        case "torch._tensor._rebuild_from_type_v2":
            // (func, new_type, args, state): the subclass type is dropped, the tensor rebuilt by `func`
            guard args.count >= 3, let inner = args[2].sequence else { throw corrupt("malformed _rebuild_from_type_v2") }
            return try call(args[0], inner)
        case "collections.OrderedDict":
            let dict = PickleDict()
            if let pairs = args.first?.sequence {
                for pair in pairs {
                    guard let kv = pair.sequence, kv.count == 2 else { throw corrupt("OrderedDict item is not a pair") }
                    try dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case "builtins.set", "builtins.frozenset", "__builtin__.set":
            return .list(try PickleList(args.first?.sequence ?? []))
        case "torch.Size":
            return .tuple(try PickleTuple(args.first?.sequence ?? []))
        case "torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
             "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist":
            return args.first ?? .none
        case "_codecs.encode":
            guard case .string(let text)? = args.first else { throw corrupt("_codecs.encode without a string") }
            // only latin-1 is used by pickle for bytes; each scalar is one byte
            return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
            return try numpyScalar(args) ?? .object(PickleObject(module: module, name: name, arguments: args))
        case "torch.device":
            if case .string(let s)? = args.first { return .string(s) }
            return .object(try PickleObject(module: module, name: name, arguments: args))
        default:
            // classes (`__torch__.*`, numpy, storage classes): an opaque instance
            return .object(try PickleObject(module: module, name: name, arguments: args))
        }
    }

    /// `scalar(dtype('f8'), raw bytes)` -> a float or int for the common little-endian numeric dtypes.
    private func numpyScalar(_ args: [PickleValue]) -> PickleValue? {
        guard args.count >= 2, case .object(let dtype) = args[0], case .string(let code)? = dtype.arguments.first,
              case .bytes(let raw) = args[1] else { return nil }
        // dtype state is (version, byte order, ...): only little-endian ('<') or native ('=', '|') values
        if let state = dtype.state?.sequence, state.count > 1, case .string(">") = state[1] { return nil }
        func load<T>(_ type: T.Type) -> T? {
            guard raw.count == MemoryLayout<T>.size else { return nil }
            return raw.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
        }
        switch code {
        case "f8": return load(Double.self).map { .float($0) }
        case "f4": return load(Float.self).map { .float(Double($0)) }
        case "i8": return load(Int64.self).map { .int(Int($0)) }
        case "i4": return load(Int32.self).map { .int(Int($0)) }
        case "b1": return load(UInt8.self).map { .bool($0 != 0) }
        default: return nil
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleValue]) throws -> PickledTensor {
        guard args.count >= 4, case .storage(let storage) = args[0] else {
            throw corrupt("_rebuild_tensor_v2 expects (storage, offset, size, stride, ...), got \(args.map(\.kind))")
        }
        guard let offset = args[1].intValue,
              let shape = args[2].sequence?.map(\.intValue), let strides = args[3].sequence?.map(\.intValue),
              !shape.contains(where: { $0 == nil }), !strides.contains(where: { $0 == nil }) else {
            throw corrupt("_rebuild_tensor_v2 with non-integer offset, size or stride")
        }
        return PickledTensor(storage: storage, storageOffset: offset, shape: shape.compactMap { $0 },
                             strides: strides.compactMap { $0 })
    }

    /// `('storage', <storage class>, key, location, numel)` -> a storage reference.
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard let items = pid.sequence, items.count >= 5, case .string("storage") = items[0] else {
            throw unsupported("persistent id \(pid.kind) is not a ('storage', ...) tuple")
        }
        guard case .global(let module, let className) = items[1] else {
            throw corrupt("persistent id storage type is a \(items[1].kind)")
        }
        guard module == "torch", let dtype = DType(torchStorageClass: className) else {
            throw unsupported("storage type \(module).\(className)")
        }
        guard case .string(let key) = items[2], let count = items[4].intValue, count >= 0 else {
            throw corrupt("persistent id has no string key or element count")
        }
        return .storage(PickledStorage(dtype: dtype, key: key, elementCount: count))
    }
}
