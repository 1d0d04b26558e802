/// A value produced by the restricted unpickler. Containers are reference types because the pickle memo
/// shares them (a dict is created empty, memoised, then filled).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
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
        case .tuple(let t): return t.items
        case .list(let list): return list.items
        default: return nil
        }
    }

    /// The container object behind this value, if any.
    var container: PickleContainer? {
        switch self {
        case .tuple(let t): return t
        case .list(let l): return l
        case .dict(let d): return d
        case .object(let o): return o
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

// MARK: - Containers

/// Why a container could not take a child. Nesting is bounded so that no hostile pickle can build a graph
/// whose (recursive) teardown or traversal overflows the stack, and containers are sealed once placed inside
/// another so the bound stays exact and no cycle can form.
enum PickleNestingError: Error {
    case tooDeep(Int)
    case modifiedAfterNesting(String)
}

/// Shared bookkeeping of every pickle container: nesting depth and whether it was placed inside another.
class PickleContainer {
    /// Deepest nesting a pickle may build (torch state dicts and TorchScript modules need a few dozen).
    static let maxDepth = 1000

    /// 1 + the deepest child's depth.
    private(set) var depth = 1
    /// Set once the container is inside another: it may no longer change.
    private(set) var sealed = false

    var kindName: String { "container" }

    /// Checks that this container may take `children`, seals them and updates the depth.
    func adopt(_ children: [PickleValue]) throws {
        guard !sealed else { throw PickleNestingError.modifiedAfterNesting(kindName) }
        for child in children {
            guard let node = child.container else { continue }
            guard node !== self else { throw PickleNestingError.modifiedAfterNesting(kindName) }
            node.sealed = true
            depth = max(depth, node.depth + 1)
        }
        guard depth <= PickleContainer.maxDepth else { throw PickleNestingError.tooDeep(depth) }
    }
}

/// An immutable tuple.
final class PickleTuple: PickleContainer {
    let items: [PickleValue]
    init(_ items: [PickleValue]) throws {
        self.items = items
        super.init()
        try adopt(items)
    }
    override var kindName: String { "tuple" }
}

final class PickleList: PickleContainer {
    private(set) var items: [PickleValue] = []
    init(_ items: [PickleValue] = []) throws {
        super.init()
        try append(contentsOf: items)
    }
    func append(contentsOf values: [PickleValue]) throws {
        try adopt(values)
        items.append(contentsOf: values)
    }
    override var kindName: String { "list" }
}

/// A dict keeping insertion order (state dicts are ordered).
final class PickleDict: PickleContainer {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) throws {
        try adopt([key, value])
        if case .string(let s) = key, let i = stringIndex[s] {
            values[i] = value
            return
        }
        if case .string(let s) = key { stringIndex[s] = keys.count }
        keys.append(key)
        values.append(value)
    }

    var entries: Zip2Sequence<[PickleValue], [PickleValue]> { zip(keys, values) }
    override var kindName: String { "dict" }
}

/// An instance of an opaque class: its constructor arguments and `BUILD` state, never executed.
final class PickleObject: PickleContainer {
    let module: String
    let name: String
    let arguments: [PickleValue]
    private(set) var state: PickleValue?
    init(module: String, name: String, arguments: [PickleValue]) throws {
        self.module = module
        self.name = name
        self.arguments = arguments
        super.init()
        try adopt(arguments)
    }
    func setState(_ value: PickleValue) throws {
        try adopt([value])
        state = value
    }
    var typeName: String { "\(module).\(name)" }
    override var kindName: String { typeName }
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
