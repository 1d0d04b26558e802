import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// Every fixture written by PyTorch / `safetensors` reads back with the exact shapes and values torch reports.
final class CheckpointFixtureTests: XCTestCase {
    private static let formats: [String: CheckpointFormat] = [
        "st_f32.safetensors": .safetensors, "st_f16.safetensors": .safetensors, "st_bf16.safetensors": .safetensors,
        "st_f64.safetensors": .safetensors, "st_ints.safetensors": .safetensors, "torch_plain.pt": .torchZip,
        "torch_nested.pt": .torchZip, "torch_shared.pt": .torchZip, "torchscript.pt": .torchScript,
    ]

    func testEveryFixtureMatchesTorchValues() throws {
        let expected = try Fixtures.expected()
        XCTAssertEqual(Set(expected.keys), Set(Self.formats.keys))
        for (file, want) in expected {
            let checkpoint = try Checkpoint.load(path: try Fixtures.path(file))
            XCTAssertEqual(checkpoint.format, Self.formats[file], file)
            XCTAssertEqual(Set(checkpoint.tensors.keys), Set(want.tensors.keys), file)
            for (name, reference) in want.tensors {
                let entry = try checkpoint.entry(name)
                XCTAssertEqual(entry.shape, reference.shape, "\(file) \(name)")
                let tensor = try entry.toTensor()
                XCTAssertEqual(tensor.shape, reference.shape, "\(file) \(name)")
                let got = tensor.scalars
                XCTAssertEqual(got.count, reference.values.count, "\(file) \(name)")
                var mismatches = 0
                for (a, b) in zip(got, reference.values) where !Fixtures.sameFloat(a, b) { mismatches += 1 }
                XCTAssertEqual(mismatches, 0, "\(file) \(name): \(mismatches) values differ, got \(got.prefix(6)) want \(reference.values.prefix(6))")
            }
            if let metadata = want.metadata {
                XCTAssertEqual(checkpoint.metadata, metadata, file)
            }
        }
    }

    func testDTypesAreReported() throws {
        let ints = try Checkpoint.load(path: try Fixtures.path("st_ints.safetensors"))
        XCTAssertEqual(ints.tensors["i64"]?.dtype, .int64)
        XCTAssertEqual(ints.tensors["u8"]?.dtype, .uint8)
        XCTAssertEqual(ints.tensors["bool"]?.dtype, .bool)
        XCTAssertEqual(try ints.entry("i64").int64Values(), [-(1 << 40), 3, 7, 1 << 33])
        XCTAssertEqual(try ints.entry("i8").int64Values(), [-128, 127])
        XCTAssertEqual(try ints.entry("bool").int64Values(), [1, 0, 1])
        let nested = try Checkpoint.load(path: try Fixtures.path("torch_nested.pt"))
        XCTAssertEqual(nested.tensors["prompt_learner.ctx"]?.dtype, .float16)
        XCTAssertEqual(nested.tensors["prompt_learner.proj"]?.dtype, .bfloat16)
        XCTAssertEqual(nested.tensors["prompt_learner.scale"]?.dtype, .float64)
        assertCheckpointError("torch_nested.pt") { try nested.entry("prompt_learner.ctx").int64Values() }
    }

    func testSharedStorageViews() throws {
        let checkpoint = try Checkpoint.load(path: try Fixtures.path("torch_shared.pt"))
        let w = try checkpoint.entry("w"), tail = try checkpoint.entry("w_tail"), t = try checkpoint.entry("w_t")
        let col = try checkpoint.entry("col")
        XCTAssertEqual(w.storageByteOffset, tail.storageByteOffset, "views share one storage")
        XCTAssertEqual(tail.storageOffset, 5)
        XCTAssertEqual(t.strides, [1, 5])
        XCTAssertFalse(t.isContiguous)
        XCTAssertEqual(col.storageOffset, 2)
        XCTAssertEqual(col.strides, [5])
        // contiguous aligned F32 is borrowed from the mapping, strided views are gathered copies
        XCTAssertTrue(try w.toTensor().storage.isReadOnly)
        XCTAssertTrue(try tail.toTensor().storage.isReadOnly)
        XCTAssertFalse(try t.toTensor().storage.isReadOnly)
        let tokens = try checkpoint.entry("tokens")
        XCTAssertEqual(tokens.dtype, .int64)
        let expected = try XCTUnwrap(try Fixtures.expected()["torch_shared.pt"]?.tensors["tokens"])
        XCTAssertEqual(try tokens.int64Values(), expected.values.map { Int64($0) })
    }

    func testTorchScriptModuleKeysMatchStateDict() throws {
        let checkpoint = try Checkpoint.load(path: try Fixtures.path("torchscript.pt"))
        XCTAssertEqual(checkpoint.format, .torchScript)
        XCTAssertTrue(checkpoint.names.contains("blocks.1.mlp.2.weight"))
        XCTAssertFalse(checkpoint.names.contains("blocks.1.mlp.2.bias"), "bias=False has no tensor")
        XCTAssertEqual(checkpoint.tensors["position_ids"]?.dtype, .int64)
        XCTAssertEqual(try checkpoint.entry("position_ids").int64Values(), [0, 1, 2, 3, 4])
    }

    func testMissingTensorNamesTheKey() throws {
        let checkpoint = try Checkpoint.load(path: try Fixtures.path("torch_plain.pt"))
        let error = assertCheckpointError("torch_plain.pt") { try checkpoint.tensor("visual.proj") }
        XCTAssertEqual(error, .missingTensor(file: "torch_plain.pt", name: "visual.proj"))
        XCTAssertTrue(error?.description.contains("visual.proj") ?? false)
    }

    // MARK: - Rejected files

    func testForbiddenGlobalIsNamedAndNothingRuns() throws {
        let error = assertCheckpointError("evil.pt") { try Checkpoint.load(path: try Fixtures.path("evil.pt")) }
        XCTAssertEqual(error, .forbiddenGlobal(file: "evil.pt", global: "os.system"))
        XCTAssertTrue(error?.description.contains("os.system") ?? false)
    }

    func testDeflatedEntriesAreAClearError() throws {
        let error = assertCheckpointError("deflated.pt") { try Checkpoint.load(path: try Fixtures.path("deflated.pt")) }
        XCTAssertTrue(error?.description.contains("deflate") ?? false, "\(String(describing: error))")
    }

    func testLegacyFormatIsAClearError() throws {
        let error = assertCheckpointError("legacy.pt") { try Checkpoint.load(path: try Fixtures.path("legacy.pt")) }
        XCTAssertEqual(error?.description, "legacy.pt: legacy torch.save format (not a zip); re-save with torch>=1.6")
    }

    func testUnknownAndMissingFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("x.bin")
        try Data("hello, this is not a checkpoint".utf8).write(to: junk)
        let error = assertCheckpointError("x.bin") { try Checkpoint.load(path: junk.path) }
        XCTAssertEqual(error?.description, "x.bin: not a safetensors, torch zip or TorchScript file")
        assertCheckpointError("nope.pt") { try Checkpoint.load(path: dir.appendingPathComponent("nope.pt").path) }
        assertCheckpointError(dir.lastPathComponent) { try Checkpoint.load(path: dir.path) }
    }
}
