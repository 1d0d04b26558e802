import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks a path ClipAD is about to write, before anything is written, and says in words what is wrong with it
/// (instead of a raw system error dump): a file output that is a folder or not a regular file (/dev/null, a FIFO,
/// /proc/...), a missing or read-only folder, a folder output that is a file.
public enum OutputPath {
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// A file about to be replaced atomically (temp file in its folder + rename).
    public static func checkFile(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { throw Problem(path: path, reason: "is a folder; give a file name for this output") }
            if kind == S_IFLNK, stat(path, &info) != 0 {
                throw Problem(path: path, reason: "is a symbolic link to nothing (or a link loop); refusing to write through it")
            }
            if info.st_mode & S_IFMT != S_IFREG { throw Problem(path: path, reason: "exists and is not a regular file (a device, FIFO or socket); choose a file path") }
        }
        try checkFolderWritable((path as NSString).deletingLastPathComponent, for: path)
    }

    /// A folder the outputs go into: created (with parents) when missing.
    public static func prepareFolder(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Problem(path: path, reason: "exists and is not a folder; choose an output folder") }
            guard access(path, W_OK) == 0 else { throw Problem(path: path, reason: "the folder is not writable (\(String(cString: strerror(errno))))") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            var parent = (path as NSString).deletingLastPathComponent
            while !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) { parent = (parent as NSString).deletingLastPathComponent }
            let why = parent.isEmpty || access(parent, W_OK) == 0 ? "cannot create the folder" : "cannot create the folder: \(parent) is not writable"
            throw Problem(path: path, reason: why)
        }
    }

    static func checkFolderWritable(_ folder: String, for path: String) throws {
        let dir = folder.isEmpty ? "." : folder
        var info = stat()
        guard stat(dir, &info) == 0 else { throw Problem(path: path, reason: "its folder \(dir) does not exist") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Problem(path: path, reason: "\(dir) is not a folder") }
        guard access(dir, W_OK) == 0 else { throw Problem(path: path, reason: "its folder \(dir) is not writable (read-only or permission denied)") }
    }
}
