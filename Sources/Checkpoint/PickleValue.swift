/// A value produced by the restricted unpickler. Containers are reference types because the pickle memo
/// shares them (a dict is created empty, memoised, then filled).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global (a callable or class), never resolved to code.
    case global(module: String, name: String)
    /// An instance of an opaque class (`__torch__.*` modules, numpy scalars, ...).
    case object(PickleObject)
    /// A storage named by a persistent id.
    case storage(PickledStorage)
    /// A tensor rebuilt from a storage view.
    case tensor(PickledTensor)

    /// A short type name for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .object(let o): return o.typeName
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// The items of a tuple or list.
    var sequence: [PickleValue]? {
        switch self {
        case .tuple(let items): return items
        case .list(let list): return list.items
        default: return nil
        }
    }

    var intValue: Int? {
        switch self {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A dict keeping insertion order (state dicts are ordered).
final class PickleDict {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key, let i = stringIndex[s] {
            values[i] = value
            return
        }
        if case .string(let s) = key { stringIndex[s] = keys.count }
        keys.append(key)
        values.append(value)
    }

    var entries: Zip2Sequence<[PickleValue], [PickleValue]> { zip(keys, values) }
}

/// An instance of an opaque class: its constructor arguments and `BUILD` state, never executed.
final class PickleObject {
    let module: String
    let name: String
    let arguments: [PickleValue]
    var state: PickleValue?
    init(module: String, name: String, arguments: [PickleValue]) {
        self.module = module
        self.name = name
        self.arguments = arguments
    }
    var typeName: String { "\(module).\(name)" }
}

/// `('storage', <storage class>, key, location, numel)` from a persistent id.
struct PickledStorage {
    let dtype: DType
    let key: String
    let elementCount: Int
}

/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct PickledTensor {
    let storage: PickledStorage
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
}
