import Foundation

/// One scratch file per fuzzing process, rewritten with each input: the checkpoint and list readers take paths.
public enum ScratchFile {
    private static let directory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = (base as NSString).appendingPathComponent("clipad-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `count` bytes at `start` to `<scratch>/<name>` and returns its path.
    public static func write(_ start: UnsafePointer<UInt8>?, _ count: Int, name: String) -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        let data = start.map { Data(bytes: $0, count: count) } ?? Data()
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }
}
