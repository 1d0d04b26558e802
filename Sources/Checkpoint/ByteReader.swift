/// A bounds-checked little-endian cursor over raw bytes; every read past the end throws.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    /// Turns a short description of the failed read into the error to throw.
    let fail: (String) -> CheckpointError

    init(_ bytes: UnsafeRawBufferPointer, at position: Int = 0, fail: @escaping (String) -> CheckpointError) {
        self.bytes = bytes
        self.position = position
        self.fail = fail
    }

    var isAtEnd: Bool { position >= bytes.count }
    var remaining: Int { max(bytes.count - position, 0) }

    /// Moves to `offset`, which must lie within the bytes (or at their end).
    mutating func seek(to offset: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= 0, offset <= bytes.count else { throw fail("\(what()) at byte \(offset) is past the end (\(bytes.count) bytes)") }
        position = offset
    }

    /// The next `count` bytes.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, position >= 0, count <= bytes.count - position else {
            throw fail("\(what()) of \(count) bytes at byte \(position) runs past the end (\(bytes.count) bytes)")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let raw = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 { try integer(UInt8.self, what()) }
    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 { try integer(UInt16.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try integer(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try integer(UInt64.self, what()) }

    /// An unsigned 64-bit size converted to Int (sizes above Int.max are corrupt by definition here).
    mutating func size64(_ what: @autoclosure () -> String) throws -> Int {
        let value = try u64(what())
        guard value <= UInt64(Int.max) else { throw fail("\(what()) \(value) is impossibly large") }
        return Int(value)
    }
}
