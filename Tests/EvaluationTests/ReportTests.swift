import Foundation
import ImageIO
import XCTest
@testable import Evaluation

/// metrics.json / metrics.csv / report.html from known inputs, and the evaluation run on a synthetic folder dataset.
final class ReportTests: XCTestCase {
    // MARK: - Fixtures

    func sampleReport() -> EvaluationReport {
        let a = ClassMetrics(imageAUROC: 0.5, imageAP: 0.25, imageF1Max: 0.75, pixelAUROC: 1, pixelAP: 0.125,
                             pixelF1Max: 0.375, pixelAUPRO: 0.625)
        let b = ClassMetrics(imageAUROC: 1, imageAP: 0.75, imageF1Max: 0.25, pixelAUROC: nil, pixelAP: nil,
                             pixelF1Max: nil, pixelAUPRO: nil)
        return EvaluationReport(method: "anomalyclip", settings: [("clip", "/m/clip.pt"), ("image_size", "56")], classes: [
            ClassResult(name: "bottle", images: 10, anomalous: 4, metrics: a),
            ClassResult(name: "wood, \"x\" <b>", images: 6, anomalous: 2, skipped: 1, metrics: b, notes: ["pixel metrics: none"]),
        ])
    }

    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    // MARK: - metrics.json

    func testJSONKeysAndValues() throws {
        let report = sampleReport()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.jsonText().utf8)) as? [String: Any])
        XCTAssertEqual(object["method"] as? String, "anomalyclip")
        XCTAssertEqual((object["settings"] as? [String: String])?["clip"], "/m/clip.pt")
        let classes = try XCTUnwrap(object["classes"] as? [String: [String: Any]])
        XCTAssertEqual(Set(classes.keys), ["bottle", "wood, \"x\" <b>"])
        let bottle = try XCTUnwrap(classes["bottle"])
        let expected = ["image_auroc": 0.5, "image_ap": 0.25, "image_f1_max": 0.75, "pixel_auroc": 1.0,
                        "pixel_ap": 0.125, "pixel_f1_max": 0.375, "pixel_aupro": 0.625]
        for (k, v) in expected { XCTAssertEqual(bottle[k] as? Double, v, k) }
        XCTAssertEqual(bottle["images"] as? Int, 10)
        XCTAssertTrue(classes["wood, \"x\" <b>"]?["pixel_auroc"] is NSNull)
        // Mean over the classes where a metric is defined.
        let mean = try XCTUnwrap(object["mean"] as? [String: Any])
        XCTAssertEqual(mean["image_auroc"] as? Double, 0.75)
        XCTAssertEqual(mean["image_ap"] as? Double, 0.5)
        XCTAssertEqual(mean["pixel_aupro"] as? Double, 0.625)
        XCTAssertEqual(Set(mean.keys), Set(expected.keys))
    }

    // MARK: - metrics.csv

    func testCSV() {
        let lines = sampleReport().csvText().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "class,images,anomalous,image_auroc,image_ap,image_f1_max,pixel_auroc,pixel_ap,pixel_f1_max,pixel_aupro")
        XCTAssertEqual(lines[1], "bottle,10,4,0.500000,0.250000,0.750000,1.000000,0.125000,0.375000,0.625000")
        XCTAssertEqual(lines[2], "\"wood, \"\"x\"\" <b>\",6,2,1.000000,0.750000,0.250000,,,,")
        XCTAssertEqual(lines[3], "mean,16,6,0.750000,0.500000,0.500000,1.000000,0.125000,0.375000,0.625000")
    }

    // MARK: - report.html

    func testHTMLIsSelfContained() throws {
        var report = sampleReport()
        let png = try ImageEncoder.pngData(Image(width: 2, height: 2, channels: 3, repeating: 200))
        report.classes[0].overlays = [OverlayEntry(kind: .worst, imagePath: "a.png", label: true, score: 0.5, file: "x.png")]
        let page = report.htmlText { $0 == "x.png" ? png : nil }
        XCTAssertFalse(page.contains("http://"))
        XCTAssertFalse(page.contains("https://"))
        XCTAssertFalse(page.contains("<script"))
        XCTAssertTrue(page.contains("data:image/png;base64," + png.base64EncodedString()))
        XCTAssertTrue(page.contains("<td>bottle</td>"))
        XCTAssertTrue(page.contains("<td>wood, &quot;x&quot; &lt;b&gt;</td>"))
        XCTAssertTrue(page.contains("<tr class=\"mean\"><td>mean</td>"))
        XCTAssertTrue(page.contains("<td>62.5</td>"))   // bottle AUPRO in percent
    }

    // MARK: - Pixel threshold

    func testPixelThresholdExactAndBucketed() throws {
        // Scores 0.9 (defect), 0.8 (normal), 0.7 (defect), 0.1 (normal): F1 at >= 0.9 is 2/3, at >= 0.7 is 0.8.
        let s = try PixelSample(width: 2, height: 2, scores: [0.9, 0.8, 0.7, 0.1], mask: [1, 0, 1, 0])
        XCTAssertEqual(PixelThreshold.f1Max([s]), 0.7)
        XCTAssertEqual(PixelThreshold.bucketed([s], positives: 2), PixelThreshold.floatFromKey(scoreKey(0.7) & 0xFFFF_0000))
        XCTAssertLessThanOrEqual(try XCTUnwrap(PixelThreshold.bucketed([s], positives: 2)), 0.7)
        XCTAssertNil(PixelThreshold.f1Max([try PixelSample(width: 1, height: 1, scores: [1], mask: nil)]))
        for x: Float in [-3.5, -0.0, 0, 1e-30, 2.25] { XCTAssertEqual(PixelThreshold.floatFromKey(scoreKey(x)), x) }
    }

    func testWorstAndBestPicks() {
        // Normal images scored high and anomalous ones scored low are the worst.
        let picks = DatasetEvaluation.pick(scores: [0.1, 0.9, 0.2, 0.8, 0.5], labels: [false, false, true, true, false], count: 2)
        XCTAssertEqual(picks.worst, [1, 2])
        XCTAssertEqual(picks.best, [0, 3])
    }

    // MARK: - End to end on a folder dataset (predictions from the masks themselves)

    func writeFolderDataset(_ root: String, size: Int = 32, maskSize: Int? = nil) throws {
        let generator = SyntheticDefectImages(size: size)
        let defects: [SyntheticDefectImages.Defect] = [.none, .none, .none, .scratch, .stain, .hole]
        for dir in ["normal", "abnormal", "masks"] {
            try FileManager.default.createDirectory(atPath: FileTree.join(root, dir), withIntermediateDirectories: true)
        }
        for (i, d) in defects.enumerated() {
            let s = generator.sample(index: i, defect: d)
            let name = String(format: "%02d", i)
            try ImageEncoder.write(Image(width: size, height: size, channels: 3, pixels: s.rgb),
                                   to: FileTree.join(root, d == .none ? "normal" : "abnormal", name + ".png"))
            if d != .none {
                var mask = Image(width: size, height: size, channels: 1, pixels: s.mask)
                if let m = maskSize { mask = PillowResize.nearest(mask, width: m, height: m) }
                try ImageEncoder.write(mask, to: FileTree.join(root, "masks", name + ".png"))
            }
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: FileTree.join(root, "normal", "99.png")))
    }

    func testRunWritesEverythingAndSkipsUnreadableImages() throws {
        let dir = try tempDir()
        let root = FileTree.join(dir, "parts"), out = FileTree.join(dir, "out")
        try writeFolderDataset(root, maskSize: 16)
        let samples = try DatasetLayout.folder.reader(root: root).samples(split: .test)
        var warnings: [String] = [], steps = 0
        var evaluation = DatasetEvaluation(output: out)
        evaluation.warn = { warnings.append($0) }
        evaluation.progress = { steps += 1 }
        // A perfect detector: map = the ground-truth mask (at 8x8), score = the defect fraction.
        let report = try evaluation.run(samples: samples, method: "oracle", settings: [("k", "v")], predict: { sample in
            let image = try ImageDecoder.decodeRGB(path: sample.imagePath)
            let mask = try sample.maskPath.map { PillowResize.nearest(try ImageDecoder.decodeGray(path: $0), width: 8, height: 8).pixels }
                ?? [UInt8](repeating: 0, count: 64)
            let map = mask.map { $0 > 0 ? Float(1) : 0 }
            return MapPrediction(map: map, width: 8, height: 8, score: map.reduce(0, +) / 64 + (sample.label ? 0.5 : 0),
                                 imageSize: (image.width, image.height))
        }, overlayImage: { sample, w, h in
            PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: w, height: h)
        })
        XCTAssertEqual(steps, 7)
        XCTAssertEqual(warnings.filter { $0.hasPrefix("skipped") && $0.contains("99.png") }.count, 1)
        XCTAssertEqual(warnings.filter { $0.contains("resizing masks NEAREST") }.count, 1, "\(warnings)")
        let c = try XCTUnwrap(report.classes.first)
        XCTAssertEqual(c.name, "parts")
        XCTAssertEqual(c.images, 6)
        XCTAssertEqual(c.anomalous, 3)
        XCTAssertEqual(c.skipped, 1)
        XCTAssertEqual(c.metrics.imageAUROC, 1)
        XCTAssertEqual(c.metrics.pixelAUROC, 1)
        XCTAssertEqual(c.metrics.pixelF1Max, 1)
        XCTAssertEqual(c.pixelThreshold, 1)
        XCTAssertEqual(c.overlays.count, 6)
        for file in ["metrics.json", "metrics.csv", "report.html", "scores.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: FileTree.join(out, file)), file)
        }
        let lines = try String(contentsOfFile: FileTree.join(out, "scores.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(Set(first.keys), ["image", "score", "class", "label"])
        for o in c.overlays {
            let panel = try ImageDecoder.decodeRGB(path: o.file)
            // Four 8 px panels, four 4 px gaps, then the colour bar (12 px plus its labels).
            XCTAssertGreaterThan(panel.width, 4 * 8 + 4 * 4 + 12)
            XCTAssertEqual(panel.height, 8)
        }
        let page = try String(contentsOfFile: FileTree.join(out, "report.html"), encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "data:image/png;base64,").count - 1, 6)
    }

    /// `clipad metrics` path: maps written with `PredictionWriter`, read back through `PredictionSet`, give the
    /// same report as scoring them directly.
    func testMetricsFromWrittenPredictionsMatchDirectRun() throws {
        let dir = try tempDir()
        let root = FileTree.join(dir, "parts")
        try writeFolderDataset(root)
        try FileManager.default.removeItem(atPath: FileTree.join(root, "normal", "99.png"))
        let samples = try DatasetLayout.folder.reader(root: root).samples(split: .test)
        // A deterministic, imperfect "detector": map from the image's red channel at 8x8.
        func predict(_ sample: DatasetSample) throws -> MapPrediction {
            let small = PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: 8, height: 8)
            let map = (0..<64).map { Float(small.pixels[3 * $0]) / 255 }
            return MapPrediction(map: map, width: 8, height: 8, score: map.max() ?? 0)
        }
        let writer = try PredictionWriter(directory: FileTree.join(dir, "pred"), mapFormat: .npy)
        for sample in samples["parts"] ?? [] {
            let p = try predict(sample)
            try writer.writeMap(p.map, height: 8, width: 8, stem: writer.uniqueStem(for: sample.imagePath))
            writer.record(image: sample.imagePath, score: p.score)
        }
        try writer.finish()
        let set = try PredictionSet(directory: FileTree.join(dir, "pred"))
        let overlay: (DatasetSample, Int, Int) throws -> Image = { s, w, h in
            PillowResize.resize(try ImageDecoder.decodeRGB(path: s.imagePath), width: w, height: h)
        }
        let direct = try DatasetEvaluation(output: FileTree.join(dir, "a"))
            .run(samples: samples, method: "m", settings: [], predict: predict, overlayImage: overlay)
        let viaFiles = try DatasetEvaluation(output: FileTree.join(dir, "b"))
            .run(samples: samples, method: "m", settings: [], predict: { try set.prediction(for: $0.imagePath) }, overlayImage: overlay)
        XCTAssertEqual(direct.classes.map(\.metrics), viaFiles.classes.map(\.metrics))
        XCTAssertEqual(direct.classes.first?.images, 6)
        XCTAssertNotNil(direct.classes.first?.metrics.pixelAUPRO)
    }

    func testPredictionSetMatchesByPathThenStemAndReportsMissing() throws {
        let dir = try tempDir()
        let lines = [#"{"image": "/data/a/x.png", "score": 0.5}"#, #"{"image": "/data/b/x.png", "score": 0.25}"#,
                     #"{"image": "/data/b/y.png", "score": 1}"#]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: FileTree.join(dir, "scores.jsonl")))
        try NumpyArrayFile.write([1, 2, 3, 4, 5, 6], shape: [2, 3], to: FileTree.join(dir, "b_x.npy"))
        let set = try PredictionSet(directory: dir)
        XCTAssertEqual(try set.entry(for: "/data/b/./x.png").mapFile, FileTree.join(dir, "b_x.npy"))
        XCTAssertEqual(try set.entry(for: "/data/a/x.png").mapFile, FileTree.join(dir, "x.npy"))
        XCTAssertEqual(try set.entry(for: "/elsewhere/y.jpg").score, 1)      // unique stem
        XCTAssertThrowsError(try set.entry(for: "/elsewhere/x.png"))          // ambiguous stem
        XCTAssertThrowsError(try set.entry(for: "/elsewhere/z.png")) { XCTAssertTrue("\($0)".contains("no prediction")) }
        let p = try set.prediction(for: "/data/b/x.png")
        XCTAssertEqual([p.width, p.height], [3, 2])
        XCTAssertEqual(p.score, 0.25)
    }
}
