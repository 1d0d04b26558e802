import Foundation
import XCTest
@testable import Checkpoint

/// Issue 13 reproducers for the checkpoint readers: shared pickle values, huge safetensors headers, zip CRCs.
final class HostileLimitsTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ bytes: [UInt8], as name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// `leaf`, then DUP + TUPLE2 `levels` times: a tuple DAG with 2^levels paths in a few dozen bytes.
    static func sharedTuplePickle(leaf: [UInt8], levels: Int) -> [UInt8] {
        Pickle.proto + leaf + Array(repeating: [0x32, 0x86], count: levels).flatMap { $0 } + [0x2E]
    }

    func testSharedTuplesAreWalkedOnce() throws {
        // 65 bytes as a pickle: hung with memory growing ~100 MB/s before the walk was memoised
        let pickle = Self.sharedTuplePickle(leaf: [0x29], levels: 30)
        let path = try write(TestZip.make([("a/data.pkl", pickle)]), as: "shared.pt")
        let start = Date()
        let checkpoint = try Checkpoint.load(path: path)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertTrue(checkpoint.tensors.isEmpty)
        XCTAssertTrue(checkpoint.metadata.isEmpty)
    }

    func testSharedScalarsExpandingPastTheLimitThrow() throws {
        // an int at the leaves: 2^30 metadata values if expanded
        let pickle = Self.sharedTuplePickle(leaf: [0x4B, 7], levels: 30)
        let path = try write(TestZip.make([("a/data.pkl", pickle)]), as: "shared-ints.pt")
        let start = Date()
        let error = assertCheckpointError("shared-ints.pt") { try Checkpoint.load(path: path) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        guard case .unsupported(_, let reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(reason.contains("more than 100000 tensors and values"), reason)
    }

    func testSharedStateDictStillNamesEveryPath() throws {
        // {"a": d, "b": d} with d = {"w": tensor}: both names, one storage
        let inner = Pickle.stateDict(numel: 2, shape: [2], strides: [1]).dropFirst(2).dropLast()  // "{(w tensor u" without STOP
        let pickle = Pickle.proto + [0x7D, 0x28] + Pickle.str("a") + inner + [0x71, 9] + Pickle.str("b") + [0x68, 9, 0x75, 0x2E]
        let data = [UInt8](repeating: 0, count: 8)
        let checkpoint = try Checkpoint.load(path: try write(TestZip.make([("a/data.pkl", Array(pickle)), ("a/data/0", data)]), as: "tied.pt"))
        XCTAssertEqual(checkpoint.names, ["a.w", "b.w"])
    }

    func testSafetensorsWithTooManyEntriesIsRefusedBeforeParsing() throws {
        let count = SafetensorsReader.maxTensors + 50
        var header = "{"
        header.reserveCapacity(count * 48)
        for i in 0..<count {
            header += "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        }
        header.removeLast()
        header += "}"
        let json = Array(header.utf8)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) } + json
        let path = try write(bytes, as: "many.safetensors")
        let start = Date()
        let error = assertCheckpointError("many.safetensors") { try Checkpoint.load(path: path) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(error, .corrupt(file: "many.safetensors",
                                       reason: "safetensors: header has \(count) entries, more than the 100000 tensors a file may hold"))
    }

    func testHeaderItemCountIgnoresStrings() {
        let json = Array(#"{"a:,b": {"x": [1, 2, 3]}, "__metadata__": {"k": "v,:{"}}"#.utf8)
        let (top, all) = json.withUnsafeBytes { SafetensorsReader.countItems($0) }
        XCTAssertEqual(top, 2)
        XCTAssertEqual(all, 2 + 1 + 2 + 1 + 1)  // top-level ":", ",", inner ":" + 2 commas, metadata ":"
    }

    func testZipCRCMismatchNamesTheEntry() throws {
        let values: [Float] = [1, 2]
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let pickle = Pickle.stateDict(numel: 2, shape: [2], strides: [1])
        let good = TestZip.make([("a/data.pkl", pickle), ("a/data/0", bytes)])
        XCTAssertEqual(try Checkpoint.load(path: try write(good, as: "good.pt")).tensor("w").scalars, values)
        let path = try write(TestZip.make([("a/data.pkl", pickle), ("a/data/0", bytes)], badCRC: "a/data/0"), as: "crc.pt")
        let error = assertCheckpointError("crc.pt") { try Checkpoint.load(path: path) }
        guard case .corrupt(_, let reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(reason.hasPrefix("zip entry 'a/data/0': CRC-32 mismatch"), reason)
        // a flipped weight byte under a correct directory is caught the same way
        var flipped = good
        let at = try XCTUnwrap(Self.range(of: bytes, in: good)).lowerBound
        flipped[at] ^= 0x40
        assertCheckpointError("flip.pt") { try Checkpoint.load(path: try write(flipped, as: "flip.pt")) }
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle {
            return i..<(i + needle.count)
        }
        return nil
    }
}
