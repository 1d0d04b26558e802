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

    func testHTMLHasTablesChartsAndGalleryWithoutNetwork() throws {
        var report = sampleReport()
        var c = report.classes[0]
        c.imageCurve = try ScoreCurve.image(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true])
        c.imageThreshold = ImageThreshold(value: 0.35, source: .f1Max)
        c.imageOperatingPoint = OperatingPoint.image(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true],
                                                     threshold: try XCTUnwrap(c.imageThreshold))
        c.defectTypes = [DefectTypeResult(name: "crack <x>", images: 3, anomalous: 1, detected: 1, metrics: ClassMetrics(imageAUROC: 1))]
        var g = GalleryEntry(imagePath: "/d/a.png", defectType: "crack <x>", label: true, score: 0.8, predicted: false)
        g.overlay = "overlays/bottle/0001_a.png"; g.thumbnail = "thumbnails/bottle/0001_a.jpg"
        g.thumbnailWidth = 80; g.thumbnailHeight = 40
        c.gallery = [g, GalleryEntry(imagePath: "/d/b.png", defectType: "good", label: false, score: 0.1, predicted: false)]
        c.colorScale = .perClass
        c.colorRange = 0...2
        report.classes[0] = c
        let page = report.htmlText()
        XCTAssertFalse(page.contains("http://"))
        XCTAssertFalse(page.contains("https://"))
        XCTAssertTrue(page.contains("<td>bottle</td>"))
        XCTAssertTrue(page.contains("<td>wood, &quot;x&quot; &lt;b&gt;</td>"))
        XCTAssertTrue(page.contains("<tr class=\"mean\"><td>mean</td>"))
        XCTAssertTrue(page.contains("<td>62.5</td>"))   // bottle AUPRO in percent
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"chart roc image\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"chart pr image\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"chart histogram\"").count - 1, 1)
        XCTAssertTrue(page.contains("AUROC 50.0%"))   // legend from the class's metrics
        XCTAssertTrue(page.contains("class=\"operating-point\""))
        XCTAssertTrue(page.contains("<td>crack &lt;x&gt;</td><td>3</td><td>1</td><td>1 of 1</td><td>100.0</td>"))
        XCTAssertTrue(page.contains("<img loading=\"lazy\" data-src=\"thumbnails/bottle/0001_a.jpg\" width=\"80\" height=\"40\""))
        XCTAssertTrue(page.contains("<a href=\"overlays/bottle/0001_a.png\""))
        XCTAssertTrue(page.contains("data-mis=\"1\""))   // anomalous, predicted normal
        XCTAssertTrue(page.contains("Colour scale: <b>per-class</b> (0 to 2)"))
        // The class without a gallery gets no gallery section.
        XCTAssertEqual(page.components(separatedBy: "class=\"gallery\"").count - 1, 1)
    }

    // MARK: - Curves drawn = the metric code's curves

    func testImageCurveAreasAreTheMetrics() throws {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<20 {
            let n = 5 + trial * 3
            // Scores from a few levels so ties occur.
            let scores = (0..<n).map { _ in Float(Int.random(in: 0..<7, using: &rng)) / 7 }
            var labels = (0..<n).map { _ in Bool.random(using: &rng) }
            labels[0] = true; labels[1] = false
            let curve = try ScoreCurve.image(scores: scores, labels: labels)
            XCTAssertEqual(curve.rocArea, try AUROC.compute(scores: scores, labels: labels), accuracy: 1e-12)
            XCTAssertEqual(curve.precisionRecallArea, try AveragePrecision.compute(scores: scores, labels: labels), accuracy: 1e-12)
            XCTAssertEqual(curve.thresholds, Array(Set(scores)).sorted(by: >))
            for (k, t) in curve.thresholds.enumerated() {
                XCTAssertEqual(curve.truePositives[k], zip(scores, labels).filter { $0.0 >= t && $0.1 }.count)
                XCTAssertEqual(curve.falsePositives[k], zip(scores, labels).filter { $0.0 >= t && !$0.1 }.count)
            }
        }
    }

    func testDrawnPolylineIsTheCurve() throws {
        let scores: [Float] = [0.9, 0.8, 0.8, 0.6, 0.3, 0.2, 0.1], labels = [true, false, true, true, false, true, false]
        let curve = try ScoreCurve.image(scores: scores, labels: labels)
        for (kind, points) in [("roc", curve.roc), ("pr", curve.precisionRecall)] {
            let svg = ReportSVG.curveChart(kind: kind, title: "t", xLabel: "x", yLabel: "y",
                                           series: [.init(points: points, label: "l", color: "#000")], marker: nil, diagonal: false)
            let attribute = try XCTUnwrap(svg.components(separatedBy: "points=\"").dropFirst().first?.split(separator: "\"").first)
            let drawn = attribute.split(separator: " ").map { pair -> (x: Double, y: Double) in
                let xy = pair.split(separator: ",").compactMap { Double($0) }
                return ReportSVG.unitPoint(svgX: xy[0], svgY: xy[1])
            }
            XCTAssertEqual(drawn.count, points.count, kind)
            for (d, p) in zip(drawn, points) {
                XCTAssertEqual(d.x, p.x, accuracy: 1e-4, kind)   // 0.01 px of a 244 px axis
                XCTAssertEqual(d.y, p.y, accuracy: 1e-4, kind)
            }
        }
        // ROC by hand: thresholds 0.9, 0.8, 0.6, 0.3, 0.2, 0.1 over 4 anomalous / 3 normal.
        let expected: [(Double, Double)] = [(0, 0), (0, 0.25), (1.0 / 3, 0.5), (1.0 / 3, 0.75), (2.0 / 3, 0.75), (2.0 / 3, 1), (1, 1)]
        XCTAssertEqual(curve.roc.count, expected.count)
        for (a, b) in zip(curve.roc, expected) { XCTAssertEqual(a.x, b.0, accuracy: 1e-12); XCTAssertEqual(a.y, b.1, accuracy: 1e-12) }
    }

    func testDecimationKeepsOnlyCurvePoints() {
        let points = (0...5000).map { (x: Double($0) / 5000, y: sqrt(Double($0) / 5000)) }
        let drawn = ReportSVG.drawnPoints(points)
        XCTAssertLessThan(drawn.count, 1300)
        XCTAssertEqual(drawn.first?.x, 0)
        XCTAssertEqual(drawn.last?.x, 1)
        let all = Set(points.map { "\($0.x),\($0.y)" })
        XCTAssertTrue(drawn.allSatisfy { all.contains("\($0.x),\($0.y)") })
    }

    func testPixelCurvePointsLieOnTheExactCurve() throws {
        // Scores in distinct buckets: the bucketed curve is the exact one, so its areas are the pixel metrics.
        let a = try PixelSample(width: 3, height: 1, scores: [0.9, 0.5, 0.25], mask: [1, 0, 1])
        let b = try PixelSample(width: 2, height: 1, scores: [0.7, 0.125], mask: nil)
        let curve = try XCTUnwrap(ScoreCurve.pixel([a, b]))
        let metrics = try PixelMetrics.compute([a, b], proMode: nil)
        XCTAssertEqual(curve.rocArea, metrics.auroc, accuracy: 1e-12)
        XCTAssertEqual(curve.precisionRecallArea, metrics.averagePrecision, accuracy: 1e-12)
        XCTAssertEqual(curve.truePositives, [1, 1, 1, 2, 2])
        XCTAssertEqual(curve.falsePositives, [0, 1, 2, 2, 3])
        XCTAssertNil(ScoreCurve.pixel([b]))
    }

    func testOperatingPointFollowsTheThresholdRule() {
        let scores: [Float] = [0.2, 0.5, 0.5, 0.9], labels = [false, false, true, true]
        let f1 = OperatingPoint.image(scores: scores, labels: labels, threshold: ImageThreshold(value: 0.5, source: .f1Max))
        XCTAssertEqual(f1, OperatingPoint(truePositives: 2, falsePositives: 1, positives: 2, negatives: 2))
        // Calibrated thresholds label like Detector.predict: strictly above.
        let calibrated = OperatingPoint.image(scores: scores, labels: labels, threshold: ImageThreshold(value: 0.5, source: .calibrated))
        XCTAssertEqual(calibrated, OperatingPoint(truePositives: 1, falsePositives: 0, positives: 2, negatives: 2))
    }

    func testHistogramCountsAndThresholdLine() {
        let svg = ReportSVG.histogram(scores: [0, 0, 1, 1, 1], labels: [false, false, true, true, false],
                                      threshold: ImageThreshold(value: 0.5, source: .f1Max), bins: 2)
        XCTAssertTrue(svg.contains("<title>2 normal</title>"))
        XCTAssertTrue(svg.contains("<title>1 normal</title>"))
        XCTAssertTrue(svg.contains("<title>2 anomalous</title>"))
        XCTAssertTrue(svg.contains("class=\"threshold\""))
        XCTAssertTrue(svg.contains("threshold 0.5 (f1-max)"))
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
        try Self.writeFolderDataset(root, size: size, maskSize: maskSize)
    }

    static func writeFolderDataset(_ root: String, size: Int = 32, maskSize: Int? = nil) throws {
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

    /// The folder dataset of `writeFolderDataset` without its unreadable image, under `dir/parts`: six test samples.
    func readableFolderSamples(in dir: String) throws -> [String: [DatasetSample]] {
        let root = FileTree.join(dir, "parts")
        try writeFolderDataset(root)
        try FileManager.default.removeItem(atPath: FileTree.join(root, "normal", "99.png"))
        return try DatasetLayout.folder.reader(root: root).samples(split: .test)
    }

    /// A deterministic, imperfect "detector": the map is one colour channel of the image at 8x8, the score its max.
    static func channelDetector(channel: Int) -> (DatasetSample) throws -> MapPrediction {
        { sample in
            let small = PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: 8, height: 8)
            let map = (0..<64).map { Float(small.pixels[3 * $0 + channel]) / 255 }
            return MapPrediction(map: map, width: 8, height: 8, score: map.max() ?? 0)
        }
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
            // Header, titles, then four framed 256 px boxes and the colour bar.
            XCTAssertGreaterThan(panel.width, 4 * (OverlayPanel.defaultBox + 2))
            XCTAssertGreaterThan(panel.height, OverlayPanel.defaultBox + 2 * BitmapFont.height(scale: 2))
        }
        // Every scored image is in the gallery with its overlay and thumbnail on disk.
        XCTAssertEqual(c.gallery.count, 6)
        XCTAssertEqual(c.defectTypes.map(\.name), ["abnormal"])
        XCTAssertEqual(c.imageThreshold?.source, .f1Max)
        for g in c.gallery {
            for file in [g.overlay, g.thumbnail] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: FileTree.join(out, try XCTUnwrap(file))), "\(file ?? "")")
            }
        }
        let page = try String(contentsOfFile: FileTree.join(out, "report.html"), encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "<img loading=\"lazy\"").count - 1, 6)
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"chart").count - 1, 5)
    }

    /// Overlays are written on all cores: an image whose picture cannot be had is warned about in image order and
    /// left out of the gallery, and every other overlay is the same file a run without the failures writes.
    func testOverlaysWrittenInParallelKeepOrderAndFiles() throws {
        let dir = try tempDir()
        let samples = try readableFolderSamples(in: dir)
        let predict = Self.channelDetector(channel: 1)
        let failing: Set<String> = ["01.png", "04.png"]
        struct NoPicture: Error {}
        func run(_ out: String, failing: Set<String>) throws -> (EvaluationReport, [String]) {
            var warnings: [String] = []
            var evaluation = DatasetEvaluation(output: out)
            evaluation.warn = { warnings.append($0) }
            evaluation.displayImage = { sample in
                if failing.contains((sample.imagePath as NSString).lastPathComponent) { throw NoPicture() }
                return try ImageDecoder.decodeRGB(path: sample.imagePath)
            }
            let report = try evaluation.run(samples: samples, method: "m", settings: [], predict: predict) { sample, w, h in
                if failing.contains((sample.imagePath as NSString).lastPathComponent) { throw NoPicture() }
                return PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: w, height: h)
            }
            return (report, warnings)
        }
        let (all, cleanWarnings) = try run(FileTree.join(dir, "all"), failing: [])
        let (some, warnings) = try run(FileTree.join(dir, "some"), failing: failing)
        XCTAssertEqual(cleanWarnings, [])
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("01.png") && warnings[0].contains("overlay"), warnings[0])
        XCTAssertTrue(warnings[1].contains("04.png"), warnings[1])
        let full = try XCTUnwrap(all.classes.first), partial = try XCTUnwrap(some.classes.first)
        XCTAssertEqual(full.gallery.count, 6)
        for (a, b) in zip(full.gallery, partial.gallery) {
            let a = try XCTUnwrap(a.overlay)
            if failing.contains(where: { a.hasSuffix("_" + FileTree.stem($0) + ".png") }) {
                XCTAssertNil(b.overlay, a)
                continue
            }
            XCTAssertEqual(b.overlay, a)
            let bytesA = try Data(contentsOf: URL(fileURLWithPath: FileTree.join(dir, "all", a)))
            let bytesB = try Data(contentsOf: URL(fileURLWithPath: FileTree.join(dir, "some", a)))
            XCTAssertEqual(bytesA, bytesB, a)
        }
    }

    /// `clipad metrics` path: maps written with `PredictionWriter`, read back through `PredictionSet`, give the
    /// same report as scoring them directly.
    func testMetricsFromWrittenPredictionsMatchDirectRun() throws {
        let dir = try tempDir()
        let samples = try readableFolderSamples(in: dir)
        let predict = Self.channelDetector(channel: 0)
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
