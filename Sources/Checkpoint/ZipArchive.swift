/// A minimal reader for the zip archives `torch.save` / `torch.jit.save` write: central directory, stored
/// (uncompressed) entries and ZIP64 sizes. Entry data is located in place, never copied, and its CRC-32 is
/// checked when the entry is first located (a flipped bit in a weight is an error, not a silently wrong model).
struct ZipArchive {
    struct Entry {
        let name: String
        /// 0 = stored, 8 = deflate.
        let method: UInt16
        let flags: UInt16
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
        /// CRC-32 of the uncompressed data, from the central directory.
        let crc: UInt32
    }

    let fileName: String
    let bytes: UnsafeRawBufferPointer
    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    // MARK: - Signatures

    private static let endOfCentralDirectory: UInt32 = 0x0605_4B50
    private static let zip64Locator: UInt32 = 0x0706_4B50
    private static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4B50
    private static let centralHeader: UInt32 = 0x0201_4B50
    private static let localHeader: UInt32 = 0x0403_4B50

    // MARK: - Parsing

    init(bytes: UnsafeRawBufferPointer, fileName: String) throws {
        self.fileName = fileName
        self.bytes = bytes
        let corrupt = { (reason: String) in CheckpointError.corrupt(file: fileName, reason: "zip: \(reason)") }
        var reader = ByteReader(bytes, fail: corrupt)

        // The end record is in the last 22 + 65535 (comment) bytes; scan backwards for its signature.
        guard bytes.count >= 22 else { throw corrupt("file too short (\(bytes.count) bytes) for a zip end record") }
        var eocd = -1
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while candidate >= lowest {
            if bytes.loadUnaligned(fromByteOffset: candidate, as: UInt32.self) == UInt32(littleEndian: ZipArchive.endOfCentralDirectory) {
                eocd = candidate
                break
            }
            candidate -= 1
        }
        guard eocd >= 0 else { throw corrupt("no end-of-central-directory record (truncated file?)") }
        try reader.seek(to: eocd + 10, "end record")
        var entryCount = Int(try reader.u16("entry count"))
        var directorySize = Int(try reader.u32("central directory size"))
        var directoryOffset = Int(try reader.u32("central directory offset"))

        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: locator (20 bytes) sits right before the classic end record.
            try reader.seek(to: eocd - 20, "zip64 locator")
            guard try reader.u32("zip64 locator") == ZipArchive.zip64Locator else { throw corrupt("missing zip64 locator") }
            _ = try reader.u32("zip64 disk")
            let recordOffset = try reader.size64("zip64 end record offset")
            try reader.seek(to: recordOffset, "zip64 end record")
            guard try reader.u32("zip64 end record") == ZipArchive.zip64EndOfCentralDirectory else {
                throw corrupt("bad zip64 end record signature at byte \(recordOffset)")
            }
            try reader.seek(to: recordOffset + 32, "zip64 end record")
            entryCount = try reader.size64("zip64 entry count")
            directorySize = try reader.size64("zip64 central directory size")
            directoryOffset = try reader.size64("zip64 central directory offset")
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw corrupt("central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the file (\(bytes.count) bytes)")
        }

        // MARK: Central directory
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        try reader.seek(to: directoryOffset, "central directory")
        let directoryEnd = directoryOffset + directorySize
        while entries.count < entryCount && reader.position < directoryEnd {
            let at = reader.position
            guard try reader.u32("central header") == ZipArchive.centralHeader else {
                throw corrupt("bad central directory header at byte \(at)")
            }
            try reader.seek(to: at + 8, "central header")
            let flags = try reader.u16("flags")
            let method = try reader.u16("compression method")
            try reader.seek(to: at + 16, "central header")
            let crc = try reader.u32("CRC-32")
            var compressed = Int(try reader.u32("compressed size"))
            var uncompressed = Int(try reader.u32("uncompressed size"))
            let nameLength = Int(try reader.u16("name length"))
            let extraLength = Int(try reader.u16("extra length"))
            let commentLength = Int(try reader.u16("comment length"))
            try reader.seek(to: at + 42, "central header")
            var localOffset = Int(try reader.u32("local header offset"))
            let nameBytes = try reader.take(nameLength, "entry name")
            let name = String(decoding: nameBytes, as: UTF8.self)
            var extra = ByteReader(try reader.take(extraLength, "extra field"), fail: corrupt)
            _ = try reader.take(commentLength, "entry comment")

            // ZIP64 extra field (id 1): 8-byte values for exactly those fields saturated above.
            while extra.remaining >= 4 {
                let id = try extra.u16("extra id")
                let size = Int(try extra.u16("extra size"))
                var field = ByteReader(try extra.take(size, "extra field body"), fail: corrupt)
                guard id == 1 else { continue }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try field.size64("zip64 uncompressed size") }
                if compressed == 0xFFFF_FFFF { compressed = try field.size64("zip64 compressed size") }
                if localOffset == 0xFFFF_FFFF { localOffset = try field.size64("zip64 local header offset") }
            }
            index[name] = entries.count
            entries.append(Entry(name: name, method: method, flags: flags, compressedSize: compressed,
                                 uncompressedSize: uncompressed, localHeaderOffset: localOffset, crc: crc))
        }
        self.entries = entries
        self.index = index
    }

    // MARK: - Access

    func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The byte range (within the file) of a stored entry's data.
    func dataRange(of entry: Entry) throws -> Range<Int> {
        let corrupt = { (reason: String) in CheckpointError.corrupt(file: fileName, reason: "zip entry '\(entry.name)': \(reason)") }
        guard entry.flags & 1 == 0 else {
            throw CheckpointError.unsupported(file: fileName, reason: "zip entry '\(entry.name)' is encrypted")
        }
        guard entry.method == 0 else {
            let kind = entry.method == 8 ? "deflate-compressed" : "compressed (method \(entry.method))"
            throw CheckpointError.unsupported(file: fileName, reason: "zip entry '\(entry.name)' is \(kind); only stored (uncompressed) entries as written by torch.save are supported")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw corrupt("stored entry has compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)")
        }
        var reader = ByteReader(bytes, fail: corrupt)
        try reader.seek(to: entry.localHeaderOffset, "local header")
        guard try reader.u32("local header") == ZipArchive.localHeader else {
            throw corrupt("bad local header signature at byte \(entry.localHeaderOffset)")
        }
        try reader.seek(to: entry.localHeaderOffset + 26, "local header")
        let nameLength = Int(try reader.u16("local name length"))
        let extraLength = Int(try reader.u16("local extra length"))
        let start = entry.localHeaderOffset + 30 + nameLength + extraLength
        guard start <= bytes.count, entry.uncompressedSize <= bytes.count - start else {
            throw corrupt("data (\(entry.uncompressedSize) bytes at byte \(start)) runs past the end of the file (\(bytes.count) bytes)")
        }
        let range = start..<(start + entry.uncompressedSize)
        let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[range]))
        guard actual == entry.crc else {
            throw corrupt("CRC-32 mismatch: the data hashes to \(hex(actual)) but the central directory records \(hex(entry.crc)) (file damaged?)")
        }
        return range
    }

    private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16, uppercase: false) }

    /// The bytes of a stored entry (a view into the file).
    func data(of entry: Entry) throws -> UnsafeRawBufferPointer {
        let range = try dataRange(of: entry)
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }
}
