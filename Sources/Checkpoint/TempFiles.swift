import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The temp files of atomic writes in progress, so that SIGINT / SIGTERM removes them too (a normal exit or an
/// error already does, through `AtomicFileWriter`'s deinit). A kill -9 cannot be caught: those leave a
/// `.<name>.tmp-PID-N` file beside the output, never a half-written output.
public enum TempFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths = Set<String>()
    /// The same paths as C strings, kept for the signal handler (which must not allocate).
    nonisolated(unsafe) private static var cPaths: [String: UnsafeMutablePointer<CChar>] = [:]
    nonisolated(unsafe) private static var snapshot: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    nonisolated(unsafe) private static var snapshotCount = 0

    static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
        cPaths[path] = strdup(path)
        rebuildSnapshot()
    }

    static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
        rebuildSnapshot()
        if let p = cPaths.removeValue(forKey: path) { free(p) }
    }

    /// The current temp files (tests).
    public static var current: Set<String> {
        lock.lock(); defer { lock.unlock() }
        return paths
    }

    private static func rebuildSnapshot() {
        let values = Array(cPaths.values)
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: max(values.count, 1))
        for (i, p) in values.enumerated() { array[i] = p }
        let old = snapshot
        snapshotCount = 0
        snapshot = array
        snapshotCount = values.count
        old?.deallocate()
    }

    /// Installs SIGINT and SIGTERM handlers that unlink every registered temp file, then let the signal end the
    /// process as it would have (default action, re-raised).
    public static func removeOnTerminationSignals() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in
                if let list = TempFiles.snapshot {
                    for i in 0..<TempFiles.snapshotCount { if let p = list[i] { unlink(p) } }
                }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }
}
