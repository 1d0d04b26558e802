import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why an input path cannot be read as a file, in words a user can act on.
public struct FileAccessError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Opening files a user names (images, checkpoints, lists, JSON) without blocking or misreporting: a FIFO, a device
/// or a socket is refused before it is read (reading a FIFO blocks forever, /dev/zero never ends), and errno is
/// turned into the reason ("too many levels of symbolic links", not "does not exist").
public enum ReadableFile {
    /// Opens `path` read-only and checks it is a regular file; the caller closes the descriptor.
    /// O_NONBLOCK: if a FIFO replaces the file between the check and the open, `open` still returns at once.
    public static func open(_ path: String) throws -> (descriptor: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileAccessError(path: path, reason: reason(errno: errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw FileAccessError(path: path, reason: "cannot stat: \(reason(errno: code))")
        }
        if let kind = nonRegularKind(info.st_mode) {
            close(fd)
            throw FileAccessError(path: path, reason: "is \(kind), not a regular file")
        }
        return (fd, Int(info.st_size))
    }

    /// Largest list, JSON or text file read whole (specs, thresholds, dataset lists, phrases).
    public static let textLimit = 256 << 20

    /// The whole file, refusing one larger than `limit` bytes before reading it.
    public static func read(_ path: String, limit: Int = 1 << 30) throws -> Data {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size <= limit else {
            throw FileAccessError(path: path, reason: "is \(size) bytes, more than the \(limit)-byte limit for this kind of file")
        }
        var data = Data(count: size)
        var done = 0
        while done < size {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                // 0: the file shrank while being read; < 0: an I/O error.
                throw FileAccessError(path: path, reason: n == 0 ? "changed while being read" : "read failed: \(reason(errno: errno))")
            }
            done += n
        }
        return data
    }

    /// A UTF-8 text file (phrases, keys, JSON lines) read whole, at most `textLimit` bytes.
    public static func text(_ path: String) throws -> String {
        guard let text = String(data: try read(path, limit: textLimit), encoding: .utf8) else {
            throw FileAccessError(path: path, reason: "is not UTF-8 text")
        }
        return text
    }

    /// Throws unless `path` names a readable regular file (for checks before a long run starts).
    public static func check(_ path: String) throws {
        let (fd, _) = try open(path)
        close(fd)
    }

    /// "a directory", "a FIFO (named pipe)", ... for anything but a regular file.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a file"
        }
    }

    /// errno in a user's words (lower case, as the rest of ClipAD's messages).
    public static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "does not exist"
        case EACCES, EPERM: return "permission denied"
        case ELOOP: return "too many levels of symbolic links (a symlink loop?)"
        case ENOTDIR: return "a component of the path is not a directory"
        case ENAMETOOLONG: return "path too long"
        case EISDIR: return "is a directory"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
