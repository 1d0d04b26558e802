import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// The writer round-trips through the reader, aligns data like the Rust crate and writes atomically.
final class SafetensorsWriterTests: XCTestCase {
    private func sample() -> [String: Tensor] {
        return [
            "visual.proj": Tensor(shape: [3, 4], generator: { Float($0) * 0.37 - 1.5 }),
            "odd \"name\"\\\n": Tensor(shape: [5], scalars: [1e-8, -0.0, .infinity, 65504, 3.14159]),
            "scalar": Tensor(shape: [], scalars: [42]),
            "empty": Tensor(zeros: [0, 7]),
        ]
    }

    func testFloat32RoundTripIsExact() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.safetensors").path
        let tensors = sample()
        let metadata = ["format": "pt", "quote\"": "line\nbreak \u{1}é"]
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)

        let checkpoint = try Checkpoint.load(path: path)
        XCTAssertEqual(checkpoint.format, .safetensors)
        XCTAssertEqual(checkpoint.metadata, metadata)
        XCTAssertEqual(Set(checkpoint.tensors.keys), Set(tensors.keys))
        for (name, t) in tensors {
            let got = try checkpoint.tensor(name)
            XCTAssertEqual(got.shape, t.shape, name)
            XCTAssertEqual(got.scalars.map(\.bitPattern), t.scalars.map(\.bitPattern), name)
        }
        // data section starts 8-byte aligned (header padded with spaces)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.safetensors"], "no temp file left")
    }

    func testHalfStorageRoundTrips() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let values: [Float] = [0, -0.0, 1, 1.0 / 3, 1e-7, 6.1e-5, 70000, -2.5e-3, .infinity, 1.00048828125]
        let tensors = ["x": Tensor(shape: [values.count], scalars: values)]
        for dtype in [DType.float16, .bfloat16] {
            let path = dir.appendingPathComponent("\(dtype).safetensors").path
            try SafetensorsWriter.write(tensors, to: path, dtype: dtype)
            let entry = try Checkpoint.load(path: path).entry("x")
            XCTAssertEqual(entry.dtype, dtype)
            let want = values.map { dtype == .float16 ? HalfPrecision.float(fromHalf: HalfPrecision.half(from: $0))
                                                      : HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: $0)) }
            XCTAssertEqual(try entry.toTensor().scalars.map(\.bitPattern), want.map(\.bitPattern), "\(dtype)")
        }
        assertCheckpointError("bad.safetensors") {
            try SafetensorsWriter.write(tensors, to: dir.appendingPathComponent("bad.safetensors").path, dtype: .int64)
        }
    }

    func testOverwriteIsAtomicAndFailuresLeaveNothing() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try SafetensorsWriter.write(["a": Tensor(shape: [2], scalars: [1, 2])], to: path)
        let first = try Checkpoint.load(path: path)  // keeps the old mapping alive across the replace
        try SafetensorsWriter.write(["b": Tensor(shape: [3], scalars: [4, 5, 6])], to: path)
        XCTAssertEqual(try first.tensor("a").scalars, [1, 2], "old readers keep the old file")
        XCTAssertEqual(try Checkpoint.load(path: path).tensor("b").scalars, [4, 5, 6])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.safetensors"])

        assertCheckpointError("x.safetensors") {
            try SafetensorsWriter.write(["a": Tensor(zeros: [1])], to: dir.appendingPathComponent("missing/x.safetensors").path)
        }
        assertCheckpointError("y.safetensors") {
            try SafetensorsWriter.write(["__metadata__": Tensor(zeros: [1])], to: dir.appendingPathComponent("y.safetensors").path)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.safetensors"])
    }

    /// Writes a file for a by-hand check with Python's `safetensors.torch.load_file` when asked to.
    func testWriteForPythonCheck() throws {
        guard let path = ProcessInfo.processInfo.environment["CLIPAD_WRITER_CHECK"] else {
            throw XCTSkip("set CLIPAD_WRITER_CHECK=PATH to write the file for the by-hand Python check")
        }
        try SafetensorsWriter.write(sample(), metadata: ["format": "pt"], to: path)
        try SafetensorsWriter.write(sample(), metadata: ["format": "pt"], to: path + ".f16", dtype: .float16)
    }
}
