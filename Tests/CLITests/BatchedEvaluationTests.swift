import Checkpoint
import CLIP
import Evaluation
import Foundation
import ImageIO
import XCTest

/// `eval` and `predict` through the prefetching pipeline: the default batch size is 1 (bit for bit), larger batches
/// agree to rounding, an unreadable
/// image is still skipped (eval), stops the shard, or is an error line (predict), and a bad batch size is refused.
final class BatchedEvaluationTests: XCTestCase {
    static var folder: URL!
    static var clip = ""
    /// Six normals and three blowholes; a copy with one normal JPEG overwritten by garbage.
    static var data = ""
    static var broken = ""
    static var brokenImage = ""

    override class func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-batched-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        clip = folder.appendingPathComponent("clip.safetensors").path
        try! SafetensorsWriter.write(CLIPModel.randomWeights(try! CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
        let generator = SyntheticDefectImages(size: 64)
        for root in ["mt", "mt-broken"] {
            for (kind, count) in [("MT_Free", 6), ("MT_Blowhole", 3)] {
                let dir = folder.appendingPathComponent("\(root)/\(kind)/Imgs")
                try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for i in 0..<count {
                    let s = generator.sample(index: i + (kind == "MT_Free" ? 0 : 10), defect: kind == "MT_Free" ? .none : .hole)
                    try! ImageEncoder.write(Image(width: 64, height: 64, channels: 3, pixels: s.rgb), to: dir.appendingPathComponent("p\(i).jpg").path)
                    try! ImageEncoder.write(Image(width: 64, height: 64, channels: 1, pixels: s.mask), to: dir.appendingPathComponent("p\(i).png").path)
                }
            }
        }
        data = folder.appendingPathComponent("mt").path
        broken = folder.appendingPathComponent("mt-broken").path
        brokenImage = broken + "/MT_Free/Imgs/p3.jpg"
        try! Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: brokenImage))
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    func out(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func eval(_ data: String, _ extra: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(["eval", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", try prompts(),
                           "--data", data, "--dataset", "magnetic-tile", "--train-normals", "2"] + extra)
    }

    /// Random AnomalyCLIP prompts for the tiny CLIP, written once.
    func prompts() throws -> String {
        let path = out("prompts.safetensors")
        if !FileManager.default.fileExists(atPath: path) {
            let r = try CLIRunner.run(["bench", "checkpoint", "--arch", "tiny-demo", "--output", out("tiny")])
            XCTAssertEqual(r.status, 0, r.stderr)
            try FileManager.default.copyItem(atPath: out("tiny") + "/prompts.safetensors", toPath: path)
        }
        return path
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// (image, score) per line of a scores.jsonl.
    func scores(_ dir: String) throws -> [(String, Double)] {
        try read(dir + "/scores.jsonl").split(separator: "\n").map {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            return (try XCTUnwrap(object["image"] as? String), try XCTUnwrap(object["score"] as? Double))
        }
    }

    func testBatchSizeOneIsTheDefaultAndLargerBatchesAgreeToRounding() throws {
        var runs: [String: (scores: [(String, Double)], maps: [Data])] = [:]
        for batch in ["default", "1", "3"] {   // 7 test images: not a multiple of 3
            let dir = out("batch-\(batch)")
            let r = try eval(Self.data, (batch == "default" ? [] : ["--batch-size", batch]) + ["--maps", "npy", "--output", dir])
            XCTAssertEqual(r.status, 0, r.stderr)
            let maps = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".npy") }.sorted()
            XCTAssertEqual(maps.count, 7)
            runs[batch] = (try scores(dir), try maps.map { try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)) })
        }
        let one = try XCTUnwrap(runs["1"]), standard = try XCTUnwrap(runs["default"]), three = try XCTUnwrap(runs["3"])
        XCTAssertEqual(one.scores.count, 7)
        XCTAssertEqual(standard.scores.map(\.0), one.scores.map(\.0))
        XCTAssertEqual(standard.scores.map(\.1), one.scores.map(\.1), "the default is batch 1, bit for bit")
        XCTAssertEqual(standard.maps, one.maps)
        XCTAssertEqual(three.scores.map(\.0), one.scores.map(\.0), "same images, same order")
        for (a, b) in zip(three.scores, one.scores) { XCTAssertEqual(a.1, b.1, accuracy: 1e-5, a.0) }
    }

    func testAnUnreadableImageIsSkippedInPlaceAndStopsAShard() throws {
        let r = try eval(Self.broken, ["--batch-size", "3", "--output", out("broken")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped \(Self.brokenImage)"), r.stderr)
        XCTAssertEqual(try read(out("broken") + "/scores.jsonl").split(separator: "\n").count, 6)

        let shard = try eval(Self.broken, ["--batch-size", "3", "--shard", "0/1", "--output", out("broken-shard")])
        XCTAssertNotEqual(shard.status, 0)
        XCTAssertTrue(shard.stderr.contains(Self.brokenImage), shard.stderr)

        let images = try FileManager.default.contentsOfDirectory(atPath: Self.broken + "/MT_Free/Imgs").filter { $0.hasSuffix(".jpg") }.sorted()
            .map { Self.broken + "/MT_Free/Imgs/" + $0 }
        let predict = try CLIRunner.run(["predict", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", try prompts(),
                                         "--batch-size", "4", "--output", out("predict")] + images)
        XCTAssertEqual(predict.status, 1, predict.stderr)
        XCTAssertTrue(predict.stderr.contains("error: \(Self.brokenImage)"), predict.stderr)
        let written = try read(out("predict") + "/scores.jsonl").split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["image"] as? String
        }
        XCTAssertEqual(written, images.filter { $0 != Self.brokenImage }, "the others, in input order")
    }

    func testABatchSizeBelowOneIsRefused() throws {
        for command in [["eval", "--data", Self.data, "--dataset", "magnetic-tile", "--output", out("zero")], ["predict", Self.data]] {
            let r = try CLIRunner.run(command + ["--method", "anomalyclip", "--clip", Self.clip, "--batch-size", "0"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("--batch-size must be at least 1, got 0"), r.stderr)
        }
    }
}
