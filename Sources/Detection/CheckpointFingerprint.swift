import Foundation

/// A content fingerprint of a checkpoint file, cheap enough to take at every load: FNV-1a (64-bit) over the file
/// size and 16 blocks of 64 KiB spread evenly through the file (the whole file when it is smaller than that).
/// Two different checkpoints of one architecture differ in their tensor bytes, which the blocks sample; it is a
/// guard against using thresholds with the wrong weights, not a cryptographic hash.
public enum CheckpointFingerprint {
    static let blocks = 16, blockSize = 1 << 16

    public static func of(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DetectionError.unreadableFile(path: JSONFile.absolute(path), reason: "cannot open the checkpoint to fingerprint it")
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        withUnsafeBytes(of: size.littleEndian) { mix($0) }
        let span = UInt64(blockSize)
        let starts: [UInt64] = size <= span * UInt64(blocks)
            ? stride(from: 0, to: size, by: Int(span)).map { $0 }
            : (0..<blocks).map { UInt64($0) * (size - span) / UInt64(blocks - 1) }
        for start in starts {
            try handle.seek(toOffset: start)
            mix(try handle.read(upToCount: blockSize) ?? Data())
        }
        return String(format: "fnv1a64:%016llx", hash)
    }
}
