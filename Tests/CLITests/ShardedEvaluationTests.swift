import Checkpoint
import CLIP
import Evaluation
import Foundation
import ImageIO
import XCTest

/// `eval --shard I/N` + `metrics --predictions DIR...` give the unsharded metrics exactly, and the seeded few-shot
/// protocol runs end to end, on a handful of magnetic-tile images (the real ones when ../shared/data has them, else
/// synthetic images in the same layout) with the tiny random-weight CLIP.
final class ShardedEvaluationTests: XCTestCase {
    static var folder: URL!
    static var clip = ""
    static var data = ""

    override class func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-shards-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        clip = folder.appendingPathComponent("clip.safetensors").path
        try! SafetensorsWriter.write(CLIPModel.randomWeights(try! CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
        data = try! makeMagneticTile(free: 6, blowholes: 3)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    /// `mt/MT_Free/Imgs/*.jpg` and `mt/MT_Blowhole/Imgs/*.jpg` + `.png` masks.
    static func makeMagneticTile(free: Int, blowholes: Int) throws -> String {
        let root = folder.appendingPathComponent("mt")
        let real = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/data/magnetic-tile").standardizedFileURL
        let fm = FileManager.default
        let generator = SyntheticDefectImages(size: 64)
        for (kind, count) in [("MT_Free", free), ("MT_Blowhole", blowholes)] {
            let dir = root.appendingPathComponent("\(kind)/Imgs")
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            let source = real.appendingPathComponent("\(kind)/Imgs")
            let jpegs = ((try? fm.contentsOfDirectory(atPath: source.path)) ?? []).filter { $0.hasSuffix(".jpg") }.sorted()
            for i in 0..<count {
                if jpegs.count >= count {
                    let stem = String(jpegs[i].dropLast(4))
                    try fm.copyItem(at: source.appendingPathComponent("\(stem).jpg"), to: dir.appendingPathComponent("\(stem).jpg"))
                    try fm.copyItem(at: source.appendingPathComponent("\(stem).png"), to: dir.appendingPathComponent("\(stem).png"))
                } else {
                    let s = generator.sample(index: i, defect: kind == "MT_Free" ? .none : .hole)
                    try ImageEncoder.write(Image(width: 64, height: 64, channels: 3, pixels: s.rgb), to: dir.appendingPathComponent("p\(i).jpg").path)
                    try ImageEncoder.write(Image(width: 64, height: 64, channels: 1, pixels: s.mask), to: dir.appendingPathComponent("p\(i).png").path)
                }
            }
        }
        return root.path
    }

    func dataArgs(trainNormals: Int = 2) -> [String] {
        ["--data", Self.data, "--dataset", "magnetic-tile", "--train-normals", "\(trainNormals)"]
    }

    func out(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func metrics(_ dir: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.json"))) as! [String: Any]
    }

    func testThreeShardsMergedEqualTheUnshardedRunBitForBit() throws {
        let eval = ["eval", "--method", "winclip", "--clip", Self.clip] + dataArgs()
        let full = try CLIRunner.run(eval + ["--maps", "npy", "--output", out("full")])
        XCTAssertEqual(full.status, 0, full.stderr)
        var shards: [String] = []
        var lines = 0
        for i in 0..<3 {
            let r = try CLIRunner.run(eval + ["--shard", "\(i)/3", "--output", out("shard\(i)")])
            XCTAssertEqual(r.status, 0, r.stderr)
            shards.append(out("shard\(i)"))
            lines += try String(contentsOfFile: out("shard\(i)") + "/scores.jsonl", encoding: .utf8).split(separator: "\n").count
        }
        XCTAssertEqual(lines, 4 + 3, "4 normals after the 2 train ones + 3 blowholes, each in one shard")
        let merged = try CLIRunner.run(["metrics", "--predictions"] + shards + dataArgs() + ["--output", out("merged")])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        let a = try metrics(out("full")), b = try metrics(out("merged"))
        XCTAssertNotNil((a["mean"] as? [String: Any])?["pixel_auroc"] as? Double, "pixel metrics were computed")
        XCTAssertEqual(a["classes"] as? NSDictionary, b["classes"] as? NSDictionary)
        XCTAssertEqual(a["mean"] as? NSDictionary, b["mean"] as? NSDictionary)
        // The unsharded run's own maps give the same numbers through `metrics` too.
        let again = try CLIRunner.run(["metrics", "--predictions", out("full")] + dataArgs() + ["--output", out("full-metrics")])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try metrics(out("full-metrics"))["classes"] as? NSDictionary, a["classes"] as? NSDictionary)

        let missing = try CLIRunner.run(["metrics", "--predictions", shards[0], shards[1]] + dataArgs() + ["--output", out("m2")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("shard(s) 2/3 missing"), missing.stderr)
        let overlap = try CLIRunner.run(["metrics", "--predictions"] + shards + [out("full")] + dataArgs() + ["--output", out("m3")])
        XCTAssertNotEqual(overlap.status, 0)
        XCTAssertTrue(overlap.stderr.contains("has a prediction in both"), overlap.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("m3") + "/metrics.json"), "no half-written report")
    }

    func testEvalWritesEveryMapAsPNGWhenAsked() throws {
        let r = try CLIRunner.run(["eval", "--method", "winclip", "--clip", Self.clip] + dataArgs() + ["--maps", "png", "--output", out("png")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: out("png") + "/scores.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 7)
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let map = try XCTUnwrap(object["map"] as? String, "each line names its map")
            XCTAssertTrue(map.hasSuffix(".png"), map)
            let image = try ImageDecoder.decodeRGB(path: out("png") + "/" + map)
            XCTAssertEqual(image.height, 64, "the map at the tiny model's 64 x 64, beside a colour bar")
            XCTAssertGreaterThan(image.width, 64)
        }
    }

    func testAMergedSetWithAHoleNamesTheMissingImage() throws {
        let r = try CLIRunner.run(["eval", "--method", "winclip", "--clip", Self.clip] + dataArgs() + ["--shard", "0/1", "--output", out("single")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let scores = out("single") + "/scores.jsonl"
        var lines = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n").map(String.init)
        let dropped = lines.removeLast()
        try (lines.joined(separator: "\n") + "\n").write(toFile: scores, atomically: true, encoding: .utf8)
        let image = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(dropped.utf8)) as? [String: Any])?["image"] as? String)
        let m = try CLIRunner.run(["metrics", "--predictions", out("single")] + dataArgs() + ["--output", out("single-m")])
        XCTAssertNotEqual(m.status, 0)
        XCTAssertTrue(m.stderr.contains("1 test image(s) have no prediction") && m.stderr.contains(image), m.stderr)
    }

    func testSeededProtocolPrintsMeanAndStd() throws {
        let r = try CLIRunner.run(["eval", "--method", "winclip", "--clip", Self.clip] + dataArgs(trainNormals: 3)
                                  + ["--shot-count", "2", "--seeds", "0,1", "--output", out("protocol")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("±"), r.stdout)
        XCTAssertTrue(r.stdout.contains("sample standard deviation"), r.stdout)
        XCTAssertTrue(r.stderr.contains("6 test image(s) encoded once"), r.stderr)
        for file in ["metrics.json", "metrics.csv", "report.html", "seed-0/report.html", "seed-1/metrics.json", "seed-1/mt/scores.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out("protocol") + "/" + file), file)
        }
        let runs = try XCTUnwrap(try metrics(out("protocol"))["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.compactMap { ($0["shots"] as? [String: [String]])?["mt"]?.count }, [2, 2])
    }

    func testProtocolAndShardOptionsAreChecked() throws {
        let base = ["eval", "--method", "winclip", "--clip", Self.clip] + dataArgs() + ["--output", out("bad")]
        for (extra, message) in [(["--shot-count", "2"], "--shot-count and --seeds go together"),
                                 (["--shot-count", "2", "--seeds", "0,0"], "--seeds must be"),
                                 (["--shot-count", "2", "--seeds", "0", "--shots", Self.data + "/MT_Free/Imgs"], "exclude each other"),
                                 (["--shard", "3/3"], "--shard 3/3"),
                                 (["--shard", "0/2", "--maps", "png"], "--maps npy")] {
            let r = try CLIRunner.run(base + extra)
            XCTAssertNotEqual(r.status, 0, extra.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), "\(extra): \(r.stderr)")
        }
        let tooMany = try CLIRunner.run(base + ["--shot-count", "3", "--seeds", "0"])
        XCTAssertNotEqual(tooMany.status, 0)
        XCTAssertTrue(tooMany.stderr.contains("fewer than 3"), tooMany.stderr)
    }
}
