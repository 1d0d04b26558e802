import CZlib
/// Writes a zip archive of stored (uncompressed) entries the way `torch.save` does: each entry's data
/// starts on a 64-byte boundary, padded with an extra field (id "FB", filled with 'Z'), so a reader can map
/// storages in place. Classic (non-ZIP64) records only: archives over 4 GiB are refused.
struct ZipWriter {
    /// Data alignment of every entry (torch's `kFieldAlignment`).
    static let alignment = 64

    private struct CentralEntry {
        let name: [UInt8]
        let crc: UInt32
        let size: Int
        let localHeaderOffset: Int
    }

    private let file: AtomicFileWriter
    private var entries: [CentralEntry] = []

    init(file: AtomicFileWriter) { self.file = file }

    private func tooLarge() -> CheckpointError {
        .unsupported(file: file.fileName, reason: "torch archive would exceed 4 GiB or 65535 entries (ZIP64 is not written)")
    }

    // MARK: - Entries

    mutating func add(_ name: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try add(name, $0) }
    }

    /// Appends one stored entry: local header (+ alignment padding), then the data.
    mutating func add(_ name: String, _ data: UnsafeRawBufferPointer) throws {
        let nameBytes = Array(name.utf8)
        let offset = file.position
        guard nameBytes.count <= 0xFFFF, entries.count < 0xFFFF else { throw tooLarge() }
        var padding = (ZipWriter.alignment - (offset + 30 + nameBytes.count) % ZipWriter.alignment) % ZipWriter.alignment
        if padding > 0 && padding < 4 { padding += ZipWriter.alignment }  // the extra field needs a 4-byte header
        let end = offset + 30 + nameBytes.count + padding + data.count
        guard end <= 0xFFFF_FFFF else { throw tooLarge() }
        let crc = CRC32.checksum(data)

        var header = ByteBuilder()
        header.u32(0x0403_4B50)
        header.u16(20)                 // version needed: 2.0
        header.u16(0)                  // flags
        header.u16(0)                  // method: stored
        header.u16(0); header.u16(0x21)  // time 00:00, date 1980-01-01
        header.u32(crc)
        header.u32(UInt32(data.count)); header.u32(UInt32(data.count))
        header.u16(UInt16(nameBytes.count))
        header.u16(UInt16(padding))
        header.bytes += nameBytes
        if padding > 0 {
            header.u16(0x4246)         // "FB"
            header.u16(UInt16(padding - 4))
            header.bytes += [UInt8](repeating: UInt8(ascii: "Z"), count: padding - 4)
        }
        try file.write(header.bytes)
        try file.write(data)
        entries.append(CentralEntry(name: nameBytes, crc: crc, size: data.count, localHeaderOffset: offset))
    }

    /// Central directory and end record.
    mutating func finish() throws {
        let directoryOffset = file.position
        var directory = ByteBuilder()
        for e in entries {
            directory.u32(0x0201_4B50)
            directory.u16(20); directory.u16(20)  // version made by / needed
            directory.u16(0); directory.u16(0)    // flags, method
            directory.u16(0); directory.u16(0x21)
            directory.u32(e.crc)
            directory.u32(UInt32(e.size)); directory.u32(UInt32(e.size))
            directory.u16(UInt16(e.name.count))
            directory.u16(0); directory.u16(0)    // extra, comment
            directory.u16(0); directory.u16(0)    // disk, internal attributes
            directory.u32(0)                      // external attributes
            directory.u32(UInt32(e.localHeaderOffset))
            directory.bytes += e.name
        }
        guard directoryOffset + directory.bytes.count + 22 <= 0xFFFF_FFFF else { throw tooLarge() }
        directory.u32(0x0605_4B50)
        directory.u16(0); directory.u16(0)
        directory.u16(UInt16(entries.count)); directory.u16(UInt16(entries.count))
        directory.u32(UInt32(directory.bytes.count - 4 - 8))  // central directory size (before this record)
        directory.u32(UInt32(directoryOffset))
        directory.u16(0)
        try file.write(directory.bytes)
    }
}

/// Little-endian byte assembly for zip records.
private struct ByteBuilder {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
}

/// The zip CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), computed by zlib (several GB/s: the reader
/// checks every entry it reads, checkpoints included).
enum CRC32 {
    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CZlib.crc32(0, nil, 0)
        guard var p = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return UInt32(crc) }
        var left = data.count
        while left > 0 {  // zlib takes 32-bit lengths
            let n = min(left, 1 << 30)
            crc = CZlib.crc32(crc, p, uInt(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}
