import Checkpoint
import Evaluation
import Foundation
import ImageIO
import XCTest

/// Every file under FuzzTesting/Corpus/<Harness>/ and FuzzTesting/FailCases/<Harness>/ goes through the entry point
/// its harness fuzzes (FuzzTesting/Sources/<Harness>/main.swift does the same calls): each must load or throw the
/// parser's typed error, within seconds. A crash found by the fuzzer is committed to FailCases and stays fixed here.
final class FuzzReplayTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting")

    /// (harness, file) for every committed input of `harness`.
    static func inputs(_ harness: String) -> [URL] {
        ["Corpus", "FailCases"].flatMap { folder -> [URL] in
            let dir = root.appendingPathComponent(folder).appendingPathComponent(harness)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
        }
    }

    private var scratch: URL!
    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// Runs `body`, accepting success or an error of `expected` type, and bounding the time.
    private func replay(_ file: URL, expected: Error.Type, line: UInt = #line, _ body: () throws -> Void) {
        let start = Date()
        do { try body() } catch {
            XCTAssertTrue(type(of: error) == expected, "\(file.lastPathComponent): unexpected \(type(of: error)): \(error)", line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "\(file.lastPathComponent) took too long", line: line)
    }

    private func loadCheckpoint(_ path: String) throws {
        let checkpoint = try Checkpoint.load(path: path)
        for entry in checkpoint.tensors.values {
            _ = try entry.toTensor()
            if !entry.dtype.isFloatingPoint { _ = try entry.int64Values() }
        }
    }

    func testSafetensorsInputs() {
        let files = Self.inputs("FuzzSafetensors")
        XCTAssertGreaterThan(files.count, 5)
        for file in files { replay(file, expected: CheckpointError.self) { try loadCheckpoint(file.path) } }
    }

    func testTorchArchiveInputs() throws {
        let files = Self.inputs("FuzzTorchArchive")
        XCTAssertGreaterThan(files.count, 5)
        for file in files { replay(file, expected: CheckpointError.self) { try loadCheckpoint(file.path) } }
        // the reproducers do what issue 13 asks
        let shared = try Checkpoint.load(path: Self.root.appendingPathComponent("Corpus/FuzzTorchArchive/shared-tuples.pt").path)
        XCTAssertTrue(shared.tensors.isEmpty)
        XCTAssertThrowsError(try Checkpoint.load(path: Self.root.appendingPathComponent("Corpus/FuzzTorchArchive/bad-crc.pt").path)) {
            XCTAssertTrue("\($0)".contains("zip entry 'a/data.pkl': CRC-32 mismatch"), "\($0)")
        }
        XCTAssertThrowsError(try Checkpoint.load(path: Self.root.appendingPathComponent("Corpus/FuzzTorchArchive/forbidden-global.pt").path)) {
            XCTAssertEqual($0 as? CheckpointError, .forbiddenGlobal(file: "forbidden-global.pt", global: "builtins.eval"))
        }
    }

    func testImageInputs() throws {
        let files = Self.inputs("FuzzImageDecode")
        XCTAssertGreaterThan(files.count, 5)
        for file in files {
            let data = try Data(contentsOf: file)
            replay(file, expected: ImageIOError.self) {
                _ = try ImageDecoder.decode(data: data, name: "input", output: .rgb)
            }
            replay(file, expected: ImageIOError.self) {
                _ = try ImageDecoder.decode(data: data, name: "input", output: .gray)
            }
        }
    }

    func testDatasetListInputs() throws {
        let files = Self.inputs("FuzzDatasetList")
        XCTAssertGreaterThan(files.count, 3)
        for file in files {
            let data = try Data(contentsOf: file)
            for name in ["list.csv", "list.jsonl"] {
                let path = scratch.appendingPathComponent(name).path
                FileManager.default.createFile(atPath: path, contents: data)
                replay(file, expected: DatasetError.self) { _ = try ListDataset(path: path).samples(split: .test, classes: nil) }
            }
        }
    }
}
