import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name in the destination folder and renamed into place by `commit()`
/// (after fsync), so readers only ever see the old file or the complete new one. Dropped without a commit,
/// the temp file is removed.
public final class AtomicFileWriter {
    let path: String
    let fileName: String
    private let tempPath: String
    private var fd: Int32
    /// Bytes written so far.
    private(set) var position = 0

    public init(path: String) throws {
        self.path = path
        fileName = CheckpointError.displayName(path)
        do { try OutputPath.checkFile(path) } catch let problem as OutputPath.Problem {
            throw CheckpointError.io(file: fileName, reason: problem.reason)
        }
        let directory = (path as NSString).deletingLastPathComponent
        tempPath = (directory.isEmpty ? "" : directory + "/") + ".\(fileName).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError.io(file: fileName, reason: "cannot create temp file \(tempPath): \(String(cString: strerror(errno)))")
        }
        TempFiles.register(tempPath)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(tempPath)
        }
        TempFiles.unregister(tempPath)
    }

    // MARK: - Writing

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw CheckpointError.io(file: fileName, reason: "write after commit") }
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let n = Glibc.write(fd, base + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw CheckpointError.io(file: fileName, reason: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        position += buffer.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// fsync, close, rename over `path`. On failure the temp file is removed.
    public func commit() throws {
        guard fd >= 0 else { return }
        guard fsync(fd) == 0 else {
            throw CheckpointError.io(file: fileName, reason: "fsync failed: \(String(cString: strerror(errno)))")
        }
        let result = close(fd)
        fd = -1
        guard result == 0 else {
            unlink(tempPath)
            throw CheckpointError.io(file: fileName, reason: "close failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tempPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tempPath)
            throw CheckpointError.io(file: fileName, reason: "cannot rename temp file into place: \(reason)")
        }
    }

    /// Writes `data` to `path` in one go (temp file, fsync, rename).
    public static func write(_ data: Data, to path: String) throws {
        let file = try AtomicFileWriter(path: path)
        try data.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }
}
