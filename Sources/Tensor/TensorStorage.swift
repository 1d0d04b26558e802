import Foundation

/// A block of Float32 memory shared by tensors: either owned (allocated here) or borrowed from a
/// memory-mapped file, which is kept alive by `owner` for as long as any tensor uses it.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Keeps borrowed memory (e.g. a `MappedFile`) alive; nil when this storage owns its memory.
    public let owner: AnyObject?
    /// Borrowed memory from a read-only mapping must never be written.
    public let isReadOnly: Bool

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        owner = nil
        isReadOnly = false
    }

    /// Allocates `count` floats without initialising them; the caller must write every element.
    public init(uninitializedCount count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        owner = nil
        isReadOnly = false
    }

    /// Wraps memory owned by someone else (no copy).
    public init(borrowing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = UnsafeMutablePointer(mutating: pointer)
        self.count = count
        self.owner = owner
        isReadOnly = true
    }

    deinit {
        if owner == nil { pointer.deallocate() }
    }
}
