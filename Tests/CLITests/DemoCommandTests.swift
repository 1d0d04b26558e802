import Foundation
import XCTest

/// `clipad demo` as the README's `make demo` runs it: the tiny random model written into the output folder, ten
/// images through the pipeline, every output file there.
final class DemoCommandTests: XCTestCase {
    func testDemoRunsEndToEndAndWritesEveryOutput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLIRunner.run(["demo", "--output", out.path], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("pipeline on 10 synthetic images (6 defective)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("image AUROC"), r.stdout)
        let lines = try String(contentsOf: out.appendingPathComponent("scores.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 10)
        let fm = FileManager.default
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out.appendingPathComponent("overlays").path).filter { $0.hasSuffix(".png") }.count, 10)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".npy") }.count, 10)
        for file in ["tiny-demo-clip.safetensors", "random-prompts.safetensors"] {
            XCTAssertTrue(fm.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
    }
}
