import Checkpoint
import CLIP
import Evaluation
import Foundation
import ImageIO
import XCTest

/// The guard-rails of the commands, run on the binary: each of these happened before and must not again.
final class CLIGuardRailTests: XCTestCase {
    static var folder: URL!
    static var clip: String!

    override class func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-cli-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        clip = folder.appendingPathComponent("clip.safetensors").path
        try! SafetensorsWriter.write(CLIPModel.randomWeights(try! CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    /// A folder of synthetic images; `masks` adds a magnetic-tile style PNG mask beside each JPEG and an MVTec
    /// `ground_truth/` folder.
    func imageFolder(_ name: String, count: Int, masks: Bool = false) throws -> URL {
        let dir = Self.folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let generator = SyntheticDefectImages(size: 64)
        for i in 0..<count {
            let s = generator.sample(index: i, defect: i % 2 == 0 ? .none : .scratch)
            let image = Image(width: 64, height: 64, channels: 3, pixels: s.rgb)
            if masks {
                try ImageEncoder.write(image, to: dir.appendingPathComponent("part\(i).jpg").path)
                try ImageEncoder.write(Image(width: 64, height: 64, channels: 1, pixels: s.mask), to: dir.appendingPathComponent("part\(i).png").path)
            } else {
                try ImageEncoder.write(image, to: dir.appendingPathComponent("part\(i).png").path)
            }
        }
        if masks {
            let gt = dir.appendingPathComponent("ground_truth")
            try FileManager.default.createDirectory(at: gt, withIntermediateDirectories: true)
            try ImageEncoder.write(Image(width: 64, height: 64, channels: 1, repeating: 0), to: gt.appendingPathComponent("part0_mask.png").path)
        }
        return dir
    }

    func winclip(_ extra: [String]) -> [String] { ["predict", "--method", "winclip", "--clip", Self.clip] + extra }

    func testPredictNeverWritesOverAnInput() throws {
        let dir = try imageFolder("inputs", count: 2)
        let before = try Data(contentsOf: dir.appendingPathComponent("part0.png"))
        let r = try CLIRunner.run(winclip(["--maps", "png", "--output", dir.path, dir.path]))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("refusing to write over an input file"), r.stderr)
        XCTAssertTrue(r.stderr.contains(dir.appendingPathComponent("part0.png").standardizedFileURL.path), r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("part0.png")), before, "the input image is unchanged")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("scores.jsonl").path))
    }

    func testPredictScoresImagesNotMasksAndNamesEachMap() throws {
        let dir = try imageFolder("with-masks", count: 3, masks: true)
        let out = Self.folder.appendingPathComponent("with-masks-out")
        let r = try CLIRunner.run(winclip(["--output", out.path, dir.path]))
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("scores.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "the three JPEGs, not their PNG masks nor ground_truth/: \(lines)")
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(object["image"] as? String, dir.appendingPathComponent("part\(i).jpg").path)
            XCTAssertEqual(object["map"] as? String, "part\(i).npy")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("part\(i).npy").path))
        }
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as! [String: Any]
        XCTAssertNotNil(run["clipad_version"])
        XCTAssertEqual((run["spec"] as? [String: Any])?["method"] as? String, "winclip")
    }

    func testNoInputIsAnError() throws {
        let empty = Self.folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try CLIRunner.run(winclip(["--output", Self.folder.appendingPathComponent("empty-out").path, empty.path]))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(empty.path): no images in this folder"), r.stderr)
    }

    func testOptionsOfAnotherMethodAreErrors() throws {
        let dir = try imageFolder("other-method", count: 1)
        let r = try CLIRunner.run(winclip(["--prompts", "p.safetensors", dir.path]))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--prompts means nothing for --method winclip"), r.stderr)
        let p = try CLIRunner.run(["predict", "--method", "promptad", "--model", "m.safetensors", "--layers", "2", dir.path])
        XCTAssertTrue(p.stderr.contains("--layers means nothing for --method promptad"), p.stderr)
    }

    func testProgressLinesWhenNotATerminal() throws {
        let dir = try imageFolder("progress", count: 3)
        let r = try CLIRunner.run(winclip(["--output", Self.folder.appendingPathComponent("progress-out").path, dir.path]),
                                  environment: ["CLIPAD_PROGRESS_SECONDS": "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("predict: 1/3"), r.stderr)
        XCTAssertTrue(r.stderr.contains("predict: 2/3"), r.stderr)
        XCTAssertFalse(r.stderr.contains("\r"), "no terminal redraws in a log")
    }

    /// Benchmark settings size buffers: out of range is one line naming the option, before anything is allocated
    /// (`bench metrics --map-size 60` crashed with an index out of range).
    func testBenchSettingsOutOfRangeAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["bench", "metrics", "--map-size", "60"], "--map-size: must be in 130...4096, got 60"),
            (["bench", "metrics", "--maps", "0"], "--maps: must be in 1...100000, got 0"),
            (["bench", "promptad", "--arch", "tiny-demo", "--shot-count", "0"], "--shot-count: must be in 1...256, got 0"),
            (["bench", "promptad", "--arch", "tiny-demo", "--map-size", "0"], "--map-size: must be in 1...16384, got 0"),
            (["bench", "anomalyclip", "--arch", "tiny-demo", "--image-size", "8"], "--image-size: must be in 16...4096, got 8"),
            (["bench", "anomalyclip", "--arch", "tiny-demo", "--batch-size", "0"], "--batch-size: must be in 1...1024, got 0"),
            (["bench", "eval", "--grid", "0"], "--grid: must be in 1...240, got 0"),
            (["bench", "eval", "--image-size", "0"], "--image-size: must be in 1...16384, got 0"),
        ]
        for (arguments, message) in cases {
            let r = try CLIRunner.run(arguments, timeout: 120)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), "\(arguments.joined(separator: " ")): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Backtrace"), r.stderr)
        }
    }

    func testVersion() throws {
        let r = try CLIRunner.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("clipad "), r.stdout)
    }

    func testCalibratedThresholdsForAnotherDetectorAreRefused() throws {
        let normals = try imageFolder("normals", count: 3)
        let shots = try imageFolder("shots", count: 2)
        let thresholds = Self.folder.appendingPathComponent("winclip-plus.json").path
        let c = try CLIRunner.run(["calibrate", "--method", "winclip", "--clip", Self.clip, "--shots", shots.path,
                                   "--normals", normals.path, "--output", thresholds])
        XCTAssertEqual(c.status, 0, c.stderr)
        // Zero-shot WinCLIP with WinCLIP+ thresholds: refused, saying what differs.
        let r = try CLIRunner.run(winclip(["--thresholds", thresholds, "--output", Self.folder.appendingPathComponent("t-out").path, normals.path]))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("shots: calibrated 2, this detector 0"), r.stderr)
        // --force: it runs, with the warning in run.json.
        let out = Self.folder.appendingPathComponent("t-forced")
        let f = try CLIRunner.run(winclip(["--thresholds", thresholds, "--force", "--output", out.path, normals.path]))
        XCTAssertEqual(f.status, 0, f.stderr)
        let run = try String(contentsOf: out.appendingPathComponent("run.json"), encoding: .utf8)
        XCTAssertTrue(run.contains("calibrated for another detector (--force): shots"), run)
    }

    func testEvalLeavesTheShotsOutOfTheTestSplit() throws {
        let root = Self.folder.appendingPathComponent("product")
        let normal = try imageFolder("product/normal", count: 4)
        _ = try imageFolder("product/abnormal", count: 2)
        let out = Self.folder.appendingPathComponent("eval-out")
        let shots = [normal.appendingPathComponent("part0.png").path, normal.appendingPathComponent("part1.png").path]
        let r = try CLIRunner.run(["eval", "--method", "winclip", "--clip", Self.clip, "--shots"] + shots
                                  + ["--data", root.path, "--dataset", "folder", "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("left 2 of the detector's 2 shot(s) out of the test split"), r.stderr)
        let scored = try String(contentsOf: out.appendingPathComponent("scores.jsonl"), encoding: .utf8)
        for shot in shots { XCTAssertFalse(scored.contains(shot), "\(shot) was scored") }
        XCTAssertEqual(scored.split(separator: "\n").count, 4, "2 remaining normals + 2 anomalous")
    }

    func testMetricsFromScoresAloneWhenNoMapsWereWritten() throws {
        let root = Self.folder.appendingPathComponent("metrics-product")
        let normal = try imageFolder("metrics-product/normal", count: 3)
        let abnormal = try imageFolder("metrics-product/abnormal", count: 2)
        let predictions = Self.folder.appendingPathComponent("no-maps")
        let p = try CLIRunner.run(winclip(["--maps", "none", "--output", predictions.path, normal.path, abnormal.path]))
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = Self.folder.appendingPathComponent("no-maps-metrics")
        let m = try CLIRunner.run(["metrics", "--predictions", predictions.path, "--data", root.path, "--dataset", "folder", "--output", out.path])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stderr.contains("image metrics from the scores only"), m.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as! [String: Any]
        let text = "\(metrics)"
        XCTAssertTrue(text.contains("image_auroc"), text)
        XCTAssertTrue(m.stderr.contains("pixel metrics not computed"), m.stderr)
    }
}
