import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// `TorchSaveWriter` output read back by our own torch zip reader: every dtype, nested keys, zip layout,
/// atomic replacement. (tools/fixtures/check_torch_save_writer.py checks the same sample with `torch.load`.)
final class TorchSaveWriterTests: XCTestCase {
    // MARK: - Sample (the Python check script builds the same values)

    static let halfValues: [Float] = [0, -0.0, 1, 1.0 / 3, 1e-7, 6.1e-5, 70000, -2.5e-3, .infinity, 1.00048828125]
    static let longValues: [Int64] = [0, -1, 255, 256, 65536, -129, Int64(Int32.max) + 1, .max, .min, 123_456_789_012]
    static let intValues: [Int32] = [49406, 320, -7, .max, .min, 0]

    static func sample() -> TorchValue {
        .dict([
            ("model", .orderedDict([
                ("weight", .tensor(Tensor(shape: [3, 4], generator: { Float($0) * 0.37 - 1.5 }))),
                ("half", .float16Tensor(Tensor(shape: [2, 5], scalars: halfValues))),
                ("ids", .int64Tensor(longValues, shape: [2, 5])),
                ("tokens", .int32Tensor(intValues, shape: [1, 1, 6])),
                ("scalar", .tensor(Tensor(shape: [], scalars: [42.5]))),
                ("empty", .tensor(Tensor(zeros: [0, 7]))),
            ])),
            ("nested", .dict([("deeper", .orderedDict([("bias", .tensor(Tensor(shape: [1, 3], scalars: [-1e-30, 3.4e38, .nan])))]))])),
        ])
    }

    private func write(_ value: TorchValue, named name: String) throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent(name).path
        try TorchSaveWriter.write(value, to: path)
        return (dir, path)
    }

    // MARK: - Round trip

    func testEveryDtypeRoundTripsExactly() throws {
        let (dir, path) = try write(Self.sample(), named: "sample.pth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = try Checkpoint.load(path: path)
        XCTAssertEqual(checkpoint.format, .torchZip)
        XCTAssertEqual(checkpoint.names, ["model.empty", "model.half", "model.ids", "model.scalar", "model.tokens",
                                          "model.weight", "nested.deeper.bias"])

        let weight = try checkpoint.entry("model.weight")
        XCTAssertEqual(weight.dtype, .float32)
        XCTAssertEqual(weight.shape, [3, 4])
        XCTAssertEqual(weight.strides, [4, 1])
        XCTAssertEqual(try weight.toTensor().scalars.map(\.bitPattern), (0..<12).map { (Float($0) * 0.37 - 1.5).bitPattern })

        let half = try checkpoint.entry("model.half")
        XCTAssertEqual(half.dtype, .float16)
        XCTAssertEqual(half.shape, [2, 5])
        let rounded = Self.halfValues.map { HalfPrecision.float(fromHalf: HalfPrecision.half(from: $0)) }
        XCTAssertEqual(try half.toTensor().scalars.map(\.bitPattern), rounded.map(\.bitPattern))
        XCTAssertNotEqual(rounded[3], Self.halfValues[3], "1/3 must actually have been rounded to half")

        let ids = try checkpoint.entry("model.ids")
        XCTAssertEqual(ids.dtype, .int64)
        XCTAssertEqual(ids.shape, [2, 5])
        XCTAssertEqual(try ids.int64Values(), Self.longValues)

        let tokens = try checkpoint.entry("model.tokens")
        XCTAssertEqual(tokens.dtype, .int32)
        XCTAssertEqual(tokens.shape, [1, 1, 6])
        XCTAssertEqual(tokens.strides, [6, 6, 1])
        XCTAssertEqual(try tokens.int64Values(), Self.intValues.map(Int64.init))

        let scalar = try checkpoint.entry("model.scalar")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(try scalar.toTensor().scalars, [42.5])
        XCTAssertEqual(try checkpoint.entry("model.empty").shape, [0, 7])
        XCTAssertEqual(try checkpoint.tensor("nested.deeper.bias").scalars.map(\.bitPattern),
                       [Float(-1e-30), 3.4e38, .nan].map(\.bitPattern))
    }

    // MARK: - Zip layout

    func testArchiveLayoutMatchesTorch() throws {
        let (dir, path) = try write(Self.sample(), named: "my prompts.pth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mapping = try MappedFile(path: path)
        let zip = try ZipArchive(bytes: mapping.bytes, fileName: "my prompts.pth")
        XCTAssertEqual(zip.entries.map(\.name), [
            "my_prompts/data.pkl", "my_prompts/.format_version", "my_prompts/.storage_alignment", "my_prompts/byteorder",
            "my_prompts/data/0", "my_prompts/data/1", "my_prompts/data/2", "my_prompts/data/3", "my_prompts/data/4",
            "my_prompts/data/5", "my_prompts/data/6", "my_prompts/version",
        ])
        for entry in zip.entries {
            let range = try zip.dataRange(of: entry)
            XCTAssertEqual(range.lowerBound % 64, 0, "\(entry.name) data is not 64-byte aligned")
            XCTAssertEqual(entry.method, 0)
            // the central directory CRC matches the data (torch's reader checks it)
            let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: mapping.bytes[range]))
            XCTAssertEqual(Self.centralCRC(mapping.bytes, name: entry.name), crc, entry.name)
        }
        func text(_ name: String) throws -> String {
            String(decoding: try zip.data(of: try XCTUnwrap(zip.entry(named: "my_prompts/" + name))), as: UTF8.self)
        }
        XCTAssertEqual(try text("byteorder"), "little")
        XCTAssertEqual(try text("version"), "3\n")
        XCTAssertEqual(zip.entry(named: "my_prompts/data/1")?.uncompressedSize, 10 * 2, "Float16 storage: 2 bytes per element")
        XCTAssertEqual(zip.entry(named: "my_prompts/data/2")?.uncompressedSize, 10 * 8, "Int64 storage: 8 bytes per element")
    }

    func testCRC32KnownValue() {
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { CRC32.checksum($0) }, 0xCBF4_3926)
    }

    /// The CRC recorded for `name` in the central directory (scanning for its header).
    private static func centralCRC(_ bytes: UnsafeRawBufferPointer, name: String) -> UInt32? {
        let nameBytes = Array(name.utf8)
        var i = 0
        while i + 46 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self) == 0x0201_4B50 {
                let length = Int(bytes.loadUnaligned(fromByteOffset: i + 28, as: UInt16.self))
                if i + 46 + length <= bytes.count, Array(bytes[(i + 46)..<(i + 46 + length)]) == nameBytes {
                    return bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt32.self)
                }
            }
            i += 1
        }
        return nil
    }

    // MARK: - Pickle integers

    func testPickledIntegersUseEveryWidthAndReadBack() throws {
        let values: [Int64] = [0, 255, 256, 65535, 65536, -1, -129, Int64(Int32.min), Int64(Int32.max),
                               Int64(Int32.max) + 1, Int64(Int32.min) - 1, 1 << 40, -(1 << 40), .max, .min]
        for v in values {
            var p = PickleWriter()
            p.int(v)
            p.stop()
            let loaded = try p.bytes.withUnsafeBytes { raw -> PickleValue in
                var unpickler = Unpickler(bytes: raw, fileName: "t.pkl", entryName: "data.pkl")
                return try unpickler.load()
            }
            XCTAssertEqual(loaded.intValue.map(Int64.init), v)
        }
    }

    // MARK: - Atomicity and errors

    func testOverwriteIsAtomicAndFailuresLeaveNothing() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.pth").path
        try TorchSaveWriter.write(.orderedDict([("a", .tensor(Tensor(shape: [2], scalars: [1, 2])))]), to: path)
        let first = try Checkpoint.load(path: path)
        try TorchSaveWriter.write(.orderedDict([("b", .tensor(Tensor(shape: [3], scalars: [4, 5, 6])))]), to: path)
        XCTAssertEqual(try first.tensor("a").scalars, [1, 2], "old readers keep the old file")
        XCTAssertEqual(try Checkpoint.load(path: path).tensor("b").scalars, [4, 5, 6])

        assertCheckpointError("x.pth") {
            try TorchSaveWriter.write(.dict([("a", .tensor(Tensor(zeros: [1])))]), to: dir.appendingPathComponent("missing/x.pth").path)
        }
        assertCheckpointError("dup.pth") {
            try TorchSaveWriter.write(.dict([("a", .tensor(Tensor(zeros: [1]))), ("a", .tensor(Tensor(zeros: [1])))]),
                                      to: dir.appendingPathComponent("dup.pth").path)
        }
        assertCheckpointError("shape.pth") {
            try TorchSaveWriter.write(.dict([("ids", .int64Tensor([1, 2, 3], shape: [2, 2]))]),
                                      to: dir.appendingPathComponent("shape.pth").path)
        }
        assertCheckpointError("huge.pth") {  // a product of sizes that overflows is an error, not a crash
            try TorchSaveWriter.write(.dict([("ids", .int64Tensor([1], shape: [Int.max, 2]))]),
                                      to: dir.appendingPathComponent("huge.pth").path)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["state.pth"], "no temp or partial files")
    }
}
