import Foundation
import Tensor

/// One tensor entry of a checkpoint, not yet converted: dtype, shape and a strided view into a storage
/// that lives in the memory-mapped file. All bounds were checked when the entry was created.
public struct CheckpointTensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Strides in elements (row-major for safetensors; whatever the view had for torch files).
    public let strides: [Int]
    /// Offset of element 0 within the storage, in elements.
    public let storageOffset: Int

    let fileName: String
    let mapping: MappedFile
    /// Byte offset of the storage's first element in the file.
    let storageByteOffset: Int
    /// Elements in the storage (several tensors may view one storage).
    let storageElementCount: Int

    /// Largest tensor materialised from a smaller storage (broadcast views with zero strides): keeps a hostile
    /// shape from requesting an arbitrary allocation.
    static let maxExpandedElements = 1 << 26

    // MARK: - Construction (validating)

    init(name: String, dtype: DType, shape: [Int], strides: [Int], storageOffset: Int, fileName: String,
         mapping: MappedFile, storageByteOffset: Int, storageElementCount: Int) throws {
        func bad(_ reason: String) -> CheckpointError { .corrupt(file: fileName, reason: "tensor '\(name)': \(reason)") }
        guard shape.count == strides.count, shape.count <= 64 else {
            throw bad("shape \(shape) and strides \(strides) disagree")
        }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), storageOffset >= 0 else {
            throw bad("negative size, stride or offset (shape \(shape), strides \(strides), offset \(storageOffset))")
        }
        guard storageByteOffset >= 0, storageElementCount >= 0 else { throw bad("negative storage position") }
        let (storageBytes, o1) = storageElementCount.multipliedReportingOverflow(by: dtype.byteSize)
        let (storageEnd, o2) = storageByteOffset.addingReportingOverflow(storageBytes)
        guard !o1, !o2, storageEnd <= mapping.count else {
            throw bad("storage of \(storageElementCount) \(dtype) elements at byte \(storageByteOffset) ends past the end of the file (\(mapping.count) bytes)")
        }
        var count = 1
        var maxIndex = storageOffset
        for (size, stride) in zip(shape, strides) {
            let (c, oc) = count.multipliedReportingOverflow(by: size)
            guard !oc else { throw bad("shape \(shape) overflows") }
            count = c
            if size > 0 {
                let (step, os) = (size - 1).multipliedReportingOverflow(by: stride)
                let (m, om) = maxIndex.addingReportingOverflow(step)
                guard !os, !om else { throw bad("strides \(strides) overflow") }
                maxIndex = m
            }
        }
        if count > 0 {
            guard maxIndex < storageElementCount else {
                throw bad("view (shape \(shape), strides \(strides), offset \(storageOffset)) reaches element \(maxIndex) of a storage with \(storageElementCount) elements")
            }
            guard count <= max(storageElementCount, CheckpointTensor.maxExpandedElements) else {
                throw bad("shape \(shape) has \(count) elements but its storage only \(storageElementCount)")
            }
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.storageOffset = storageOffset
        self.fileName = fileName
        self.mapping = mapping
        self.storageByteOffset = storageByteOffset
        self.storageElementCount = storageElementCount
    }

    // MARK: - Properties

    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether the view is row-major contiguous (dimensions of size 1 may have any stride).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Raw bytes of the storage's first element (valid while `mapping` lives).
    private var storageBase: UnsafeRawPointer? {
        mapping.bytes.baseAddress.map { $0 + storageByteOffset }
    }

    // MARK: - Conversion

    /// The values as a Float32 tensor: zero-copy (borrowing the mapping) when Float32, contiguous and 4-byte
    /// aligned; otherwise converted (Float16/BFloat16/Float64/integers) and gathered (strided views).
    public func toTensor() throws -> Tensor {
        let count = elementCount
        guard count > 0 else { return Tensor(zeros: shape) }
        guard let base = storageBase else {
            throw CheckpointError.invalidTensor(file: fileName, name: name, reason: "file is empty")
        }
        let first = base + storageOffset * dtype.byteSize
        if dtype == .float32 && isContiguous && Int(bitPattern: first) % MemoryLayout<Float>.alignment == 0 {
            let storage = TensorStorage(borrowing: first.assumingMemoryBound(to: Float.self), count: count, owner: mapping)
            return Tensor(shape: shape, storage: storage)
        }
        let out = Tensor(uninitialized: shape)
        let dst = out.mutableData
        if isContiguous {
            ElementConversion.toFloat(dtype, from: first, into: dst, count: count)
        } else {
            let load = ElementConversion.floatLoader(dtype)
            var i = 0
            forEachStorageIndex { index in
                dst[i] = load(base, index)
                i += 1
            }
        }
        return out
    }

    /// The values of an integer (or bool) tensor, e.g. tokenized prompts.
    public func int64Values() throws -> [Int64] {
        guard !dtype.isFloatingPoint else {
            throw CheckpointError.invalidTensor(file: fileName, name: name, reason: "is \(dtype), not an integer tensor")
        }
        let count = elementCount
        guard count > 0 else { return [] }
        guard let base = storageBase else {
            throw CheckpointError.invalidTensor(file: fileName, name: name, reason: "file is empty")
        }
        let load = ElementConversion.int64Loader(dtype)
        var values = [Int64]()
        values.reserveCapacity(count)
        forEachStorageIndex { values.append(load(base, $0)) }
        return values
    }

    /// Calls `body` with the storage element index of every element, in row-major order.
    private func forEachStorageIndex(_ body: (Int) -> Void) {
        let count = elementCount
        if isContiguous {
            for i in 0..<count { body(storageOffset + i) }
            return
        }
        let rank = shape.count
        var position = [Int](repeating: 0, count: rank)
        var index = storageOffset
        for _ in 0..<count {
            body(index)
            // odometer: advance the last dimension, carrying into earlier ones
            var d = rank - 1
            while d >= 0 {
                position[d] += 1
                index += strides[d]
                if position[d] < shape[d] { break }
                index -= strides[d] * shape[d]
                position[d] = 0
                d -= 1
            }
        }
    }
}
