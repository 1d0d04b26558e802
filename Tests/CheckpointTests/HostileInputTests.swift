import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// Corrupt, truncated and hand-crafted hostile files: always a `CheckpointError` naming the file, never a crash.
final class HostileInputTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private static let fixtures = [
        "st_f32.safetensors", "st_f16.safetensors", "st_ints.safetensors", "torch_plain.pt", "torch_nested.pt",
        "torch_shared.pt", "torchscript.pt",
    ]

    /// Writes `bytes` to the scratch folder and loads it, converting every tensor that loads.
    @discardableResult
    private func load(_ bytes: [UInt8], as name: String) throws -> Checkpoint {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        let checkpoint = try Checkpoint.load(path: url.path)
        for entry in checkpoint.tensors.values {
            _ = try entry.toTensor()
            if !entry.dtype.isFloatingPoint { _ = try entry.int64Values() }
        }
        return checkpoint
    }

    // MARK: - Mutated fixtures

    func testTruncatedFixturesThrow() throws {
        for name in Self.fixtures {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path(name))))
            var lengths = Set([0, 1, 4, 7, 8, 9, 16, 21, 22, 23, bytes.count - 23, bytes.count - 22, bytes.count - 1])
            for i in 1..<24 { lengths.insert(bytes.count * i / 24) }
            for length in lengths.sorted() where length >= 0 && length < bytes.count {
                assertCheckpointError(name) { try load(Array(bytes.prefix(length)), as: name) }
            }
        }
    }

    func testFlippedBytesNeverCrash() throws {
        var rng = SplitMix(seed: 42)
        var rejected = 0, accepted = 0
        for name in Self.fixtures {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path(name))))
            for trial in 0..<150 {
                var mutated = bytes
                // first half of the trials hit the header / pickle region, the rest anywhere
                let limit = trial < 75 ? min(bytes.count, 600) : bytes.count
                for _ in 0..<(1 + trial % 3) {
                    let at = Int(rng.next() % UInt64(limit))
                    mutated[at] ^= [0xFF, 0x01, 0x80, 0x7F][Int(rng.next() % 4)]
                }
                do {
                    try load(mutated, as: name)
                    accepted += 1  // e.g. a flipped value byte: still a valid file
                } catch let error as CheckpointError {
                    XCTAssertTrue(error.description.hasPrefix(name + ": "), "\(error)")
                    rejected += 1
                }
            }
        }
        XCTAssertGreaterThan(rejected, 100)
        XCTAssertGreaterThan(accepted, 100)
    }

    // MARK: - safetensors

    private func safetensors(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        let length = declaredLength ?? UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + json + data
    }

    func testHostileSafetensorsHeaders() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8])] = [
            ("huge-length", safetensors(header: "{}", declaredLength: UInt64.max)),
            ("length-past-end", safetensors(header: "{}", declaredLength: 3)),
            ("not-json", safetensors(header: "{not json at all")),
            ("not-object-entry", safetensors(header: #"{"a": 3}"#)),
            ("bad-dtype", safetensors(header: #"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])),
            ("huge-offsets", safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,1000000000000000000]}}"#, data: eight)),
            ("offset-overflow", safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}"#, data: eight)),
            ("huge-shape", safetensors(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#, data: eight)),
            ("negative-dim", safetensors(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight)),
            ("size-mismatch", safetensors(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)),
            ("reversed-offsets", safetensors(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight)),
            ("fractional", safetensors(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: eight)),
            ("bad-metadata", safetensors(header: #"{"__metadata__":{"a":1}}"#)),
        ]
        for (label, bytes) in cases {
            let name = "\(label).safetensors"
            let error = assertCheckpointError(name) { try load(bytes, as: name) }
            if ProcessInfo.processInfo.environment["CLIPAD_PRINT_ERRORS"] != nil { print(error.map(String.init(describing:)) ?? "-") }
        }
        // a valid tiny file for contrast
        let ok = try load(safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight), as: "ok.safetensors")
        XCTAssertEqual(try ok.tensor("a").scalars, [0, 0])
    }

    // MARK: - torch zip

    func testHostileTorchArchives() throws {
        let data = [UInt8](repeating: 0, count: 24)  // 6 floats
        let storage: [(String, [UInt8])] = [("a/data/0", data)]
        let nestedOpen: [UInt8] = Array(repeating: [0x7D, 0x28] + Pickle.str("k"), count: 200).flatMap { $0 }
        let nestedClose: [UInt8] = [0x7D] + Array(repeating: 0x75, count: 200) + [0x2E]
        var cases: [(String, [UInt8], [(String, [UInt8])])] = []
        cases.append(("storage-larger-than-entry", Pickle.stateDict(numel: 7, shape: [7], strides: [1]), storage))
        cases.append(("view-past-storage", Pickle.stateDict(numel: 6, offset: 2, shape: [2, 3], strides: [3, 1]), storage))
        cases.append(("negative-offset", Pickle.stateDict(numel: 6, offset: -1, shape: [2], strides: [1]), storage))
        cases.append(("huge-numel", Pickle.stateDict(numel: 1 << 62, shape: [1], strides: [1]), storage))
        cases.append(("huge-broadcast", Pickle.stateDict(numel: 6, shape: [1 << 20, 1 << 20], strides: [0, 0]), storage))
        cases.append(("stride-overflow", Pickle.stateDict(numel: 6, shape: [3, 3], strides: [1 << 62, 1 << 62]), storage))
        cases.append(("missing-storage", Pickle.stateDict(numel: 6, shape: [6], strides: [1]), []))
        cases.append(("stack-global-eval", Pickle.proto + Pickle.str("builtins") + Pickle.str("eval") + [0x93] + Pickle.str("1") + [0x85, 0x52, 0x2E], []))
        cases.append(("unknown-opcode", Pickle.proto + [0xFE, 0x2E], []))
        cases.append(("memo-miss", Pickle.proto + [0x68, 9, 0x2E], []))
        cases.append(("underflow", Pickle.proto + [0x73, 0x2E], []))
        cases.append(("no-stop", Pickle.proto + [0x7D], []))
        cases.append(("deep-nesting", Pickle.proto + nestedOpen + nestedClose, []))
        let deepLists: [UInt8] = [UInt8](repeating: 0x5D, count: 5000) + [UInt8](repeating: 0x61, count: 4999) + [0x2E]
        cases.append(("deep-lists", Pickle.proto + deepLists, []))
        cases.append(("self-append", Pickle.proto + [0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E], []))
        // L0 = [], L1 = []; L0.append(L1); then L1.append([]) through the memo: would grow L0's depth unseen
        cases.append(("modify-after-nesting", Pickle.proto + [0x5D, 0x71, 0, 0x5D, 0x71, 1, 0x61, 0x68, 1, 0x5D, 0x61, 0x2E], []))
        cases.append(("bad-persid", Pickle.proto + Pickle.str("storage") + [0x85, 0x51, 0x2E], []))
        cases.append(("huge-string", Pickle.proto + [0x58, 0xFF, 0xFF, 0xFF, 0x7F] + [0x2E], []))
        cases.append(("wide-long", Pickle.proto + [0x8A, 9] + Array(repeating: 1, count: 9) + [0x2E], []))
        for (label, pickle, entries) in cases {
            let name = "\(label).pt"
            let zip = TestZip.make([("a/data.pkl", pickle)] + entries)
            let error = assertCheckpointError(name) { try load(zip, as: name) }
            if ProcessInfo.processInfo.environment["CLIPAD_PRINT_ERRORS"] != nil { print(error.map(String.init(describing:)) ?? "-") }
            if label == "stack-global-eval" { XCTAssertEqual(error, .forbiddenGlobal(file: name, global: "builtins.eval")) }
        }
        // the builder itself makes loadable files: a strided view inside the storage reads back
        let values: [Float] = [0, 1, 2, 3, 4, 5]
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let ok = try load(TestZip.make([("a/data.pkl", Pickle.stateDict(numel: 6, offset: 1, shape: [2, 2], strides: [1, 2])),
                                        ("a/data/0", bytes)]), as: "ok.pt")
        XCTAssertEqual(try ok.tensor("w").scalars, [1, 3, 2, 4])
    }

    func testHostileZipStructure() throws {
        let good = TestZip.make([("a/data.pkl", Pickle.stateDict(numel: 0, shape: [0], strides: [1])), ("a/data/0", [])])
        XCTAssertEqual(try load(good, as: "good.pt").tensors["w"]?.shape, [0])
        // central directory offset / size pointing far away, entry offset past the end, zip64 markers without records
        let eocd = good.count - 22
        for (label, at, value) in [("cd-offset", eocd + 16, UInt32.max - 1), ("cd-size", eocd + 12, UInt32.max - 1),
                                   ("zip64-markers", eocd + 16, UInt32.max), ("local-offset", TestZip.centralStart(good) + 42, 1 << 30),
                                   ("stored-size", TestZip.centralStart(good) + 24, 1 << 30)] {
            var bytes = good
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            assertCheckpointError("\(label).pt") { try load(bytes, as: "\(label).pt") }
        }
        // ZIP64 records and extra fields are followed
        let values: [Float] = [1.5, -2, 3]
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let zip64 = TestZip.make([("a/data.pkl", Pickle.stateDict(numel: 3, shape: [3], strides: [1])), ("a/data/0", bytes)], zip64: true)
        XCTAssertEqual(try load(zip64, as: "zip64.pt").tensor("w").scalars, values)
        var broken = zip64
        broken[broken.count - 22 - 20] ^= 0xFF  // locator signature
        assertCheckpointError("zip64-broken.pt") { try load(broken, as: "zip64-broken.pt") }
        assertCheckpointError("nopickle.pt") { try load(TestZip.make([("a/other", [1, 2, 3])]), as: "nopickle.pt") }
    }
}

// MARK: - Builders

/// A tiny deterministic generator (SplitMix64) for mutation positions.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Hand-written pickle bytes (protocol 2), mirroring what `torch.save` emits.
enum Pickle {
    static let proto: [UInt8] = [0x80, 0x02]
    static func str(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        return [0x58] + (0..<4).map { UInt8(truncatingIfNeeded: utf8.count >> (8 * $0)) } + utf8
    }
    static func int(_ v: Int) -> [UInt8] { [0x8A, 8] + (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }
    static func tuple(_ items: [[UInt8]]) -> [UInt8] { [0x28] + items.flatMap { $0 } + [0x74] }

    /// `{"w": _rebuild_tensor_v2(storage('0', numel), offset, shape, strides, False, OrderedDict())}`.
    static func stateDict(numel: Int, offset: Int = 0, shape: [Int], strides: [Int]) -> [UInt8] {
        let pid = tuple([str("storage"), global("torch", "FloatStorage"), str("0"), str("cpu"), int(numel)]) + [0x51]
        let args = tuple([pid, int(offset), tuple(shape.map(int)), tuple(strides.map(int)), [0x89],
                          global("collections", "OrderedDict") + [0x29, 0x52]])
        return proto + [0x7D, 0x28] + str("w") + global("torch._utils", "_rebuild_tensor_v2") + args + [0x52, 0x75, 0x2E]
    }
}

/// A minimal stored-entry zip writer with real CRC-32s (the reader checks them); `badCRC` names an entry to lie about.
enum TestZip {
    private static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    private static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    private static func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// - Parameter zip64: write every size and offset through the ZIP64 extra field and end records, as
    ///   writers do for archives above 4 GiB.
    static func make(_ entries: [(String, [UInt8])], zip64: Bool = false, badCRC: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        let saturated = 0xFFFF_FFFF
        for (name, data) in entries {
            let offset = out.count
            let n = Array(name.utf8)
            let crc = Int(data.withUnsafeBytes { CRC32.checksum($0) } ^ (name == badCRC ? 1 : 0))
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
                + le32(data.count) + le32(data.count) + le16(n.count) + le16(0) + n + data
            let extra = zip64 ? le16(1) + le16(24) + le64(data.count) + le64(data.count) + le64(offset) : []
            let size32 = zip64 ? saturated : data.count
            central += le32(0x0201_4B50) + le16(45) + le16(45) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
                + le32(size32) + le32(size32) + le16(n.count) + le16(extra.count) + le16(0) + le16(0) + le16(0)
                + le32(0) + le32(zip64 ? saturated : offset) + n + extra
        }
        let cdOffset = out.count
        out += central
        if zip64 {
            let recordOffset = out.count
            out += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
                + le64(entries.count) + le64(entries.count) + le64(central.count) + le64(cdOffset)
            out += le32(0x0706_4B50) + le32(0) + le64(recordOffset) + le32(1)
            out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF)
                + le32(saturated) + le32(saturated) + le16(0)
        } else {
            out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
                + le32(central.count) + le32(cdOffset) + le16(0)
        }
        return out
    }

    /// Byte offset of the central directory in a zip made by `make`.
    static func centralStart(_ zip: [UInt8]) -> Int {
        let eocd = zip.count - 22
        return (0..<4).reduce(0) { $0 | Int(zip[eocd + 16 + $1]) << (8 * $1) }
    }
}
