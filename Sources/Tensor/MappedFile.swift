import FileAccess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors opening or mapping a file.
public struct FileMappingError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// A whole file mapped read-only into memory. Tensors borrowing from it keep it alive.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd: Int32, fileSize: Int
        do { (fd, fileSize) = try ReadableFile.open(path) } catch let error as FileAccessError {
            throw FileMappingError(path: path, reason: error.reason)
        }
        defer { close(fd) }
        let size = fileSize
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw FileMappingError(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    public var count: Int { bytes.count }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
