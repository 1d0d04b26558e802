import Foundation

/// A dense, contiguous, row-major Float32 tensor.
///
/// Tensors are values: copying one shares its storage, and writing through `withMutableData`
/// first makes the storage unique (copy-on-write), so borrowed, read-only checkpoint memory is never written.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage
    /// Offset of element 0 within `storage`, in floats.
    public private(set) var offset: Int

    // MARK: - Construction

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: Tensor.count(of: shape))
        offset = 0
    }

    /// A tensor whose elements the caller will all overwrite.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(uninitializedCount: Tensor.count(of: shape))
        offset = 0
    }

    public init(shape: [Int], scalars: [Float]) {
        precondition(scalars.count == Tensor.count(of: shape), "Tensor: \(scalars.count) scalars for shape \(shape)")
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { src in
            storage.pointer.update(from: src.baseAddress!, count: src.count)
        }
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitialized: shape)
        storage.pointer.update(repeating: value, count: count)
    }

    /// A view of existing storage (no copy).
    public init(shape: [Int], storage: TensorStorage, offset: Int = 0) {
        precondition(offset + Tensor.count(of: shape) <= storage.count, "Tensor view out of storage bounds")
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    /// A tensor filled by `body(i)` for each flat index.
    public init(shape: [Int], generator body: (Int) -> Float) {
        self.init(uninitialized: shape)
        let p = storage.pointer
        for i in 0..<count { p[i] = body(i) }
    }

    // MARK: - Shape

    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }
    public var count: Int { Tensor.count(of: shape) }
    public var rank: Int { shape.count }
    /// Size of dimension `i`; negative `i` counts from the end.
    public func size(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }
    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Same elements, new shape (no copy). One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let hole = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            dims[hole] = known == 0 ? 0 : count / known
        }
        precondition(Tensor.count(of: dims) == count, "reshape \(shape) -> \(newShape)")
        return Tensor(shape: dims, storage: storage, offset: offset)
    }

    /// Rows `range` of the leading dimension (no copy).
    public func slice(rows range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0], "slice \(range) of \(shape)")
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(), storage: storage, offset: offset + range.lowerBound * inner)
    }

    /// Element `i` of the leading dimension (no copy).
    public subscript(i: Int) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        precondition(i >= 0 && i < shape[0], "index \(i) of \(shape)")
        return Tensor(shape: Array(shape.dropFirst()), storage: storage, offset: offset + i * inner)
    }

    // MARK: - Data access

    /// Read access to the elements.
    public var data: UnsafePointer<Float> { UnsafePointer(storage.pointer + offset) }

    public func withData<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: data, count: count))
    }

    /// Write access; copies first when the storage is shared or read-only.
    public mutating func withMutableData<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// A raw mutable pointer for kernels writing a tensor they just created (no copy-on-write check).
    public var mutableData: UnsafeMutablePointer<Float> {
        precondition(!storage.isReadOnly, "write to read-only (memory-mapped) tensor")
        return storage.pointer + offset
    }

    public mutating func makeUnique() {
        if storage.isReadOnly || !isKnownUniquelyReferenced(&storage) || storage.count != count {
            let fresh = TensorStorage(uninitializedCount: count)
            fresh.pointer.update(from: data, count: count)
            storage = fresh
            offset = 0
        }
    }

    /// A copy with its own storage.
    public func copy() -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.storage.pointer.update(from: data, count: count)
        t.offset = 0
        return t
    }

    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(flat i: Int) -> Float { data[i] }

    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(count > 8 ? ", ..." : "")])"
    }
}
