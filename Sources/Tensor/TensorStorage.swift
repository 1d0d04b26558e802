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

    /// For memory borrowed from a read-only file mapping: the whole pages inside floats [offset, offset + count)
    /// leave the process's resident memory (the kernel reads them from the file again if they are touched). A model
    /// that keeps its own copy of a weight (`LinearWeight`) calls this so it is not resident twice. Owned memory is
    /// left alone.
    public func releaseResidentPages(offset: Int, count: Int) {
        #if canImport(Glibc)
        guard isReadOnly, count > 0, offset >= 0, offset + count <= self.count else { return }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: pointer + offset), end = UInt(bitPattern: pointer + offset + count)
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, Int(last - first), Int32(MADV_DONTNEED))
        #endif
    }
}
