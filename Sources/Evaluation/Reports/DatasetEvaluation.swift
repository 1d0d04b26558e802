import Checkpoint
import Foundation
import ImageIO

/// One image's prediction: a row-major anomaly map and the image score.
public struct MapPrediction: Sendable {
    public var map: [Float]
    public var width: Int
    public var height: Int
    public var score: Float
    /// Size of the original image when known, to check its mask against.
    public var imageSize: (width: Int, height: Int)?

    public init(map: [Float], width: Int, height: Int, score: Float, imageSize: (width: Int, height: Int)? = nil) {
        self.map = map
        self.width = width
        self.height = height
        self.score = score
        self.imageSize = imageSize
    }
}

/// Scores a dataset's test split class by class from per-image predictions and writes `scores.jsonl`,
/// overlays, `metrics.json`, `metrics.csv` and `report.html` (see docs/METRICS.md, "Evaluation runs").
/// Maps are evaluated at their own size; masks are binarised (> 0) and resized to it with NEAREST.
public struct DatasetEvaluation {
    public var output: String
    public var proMode: PROMode
    /// Overlays written per class for each of the worst and the best cases.
    public var overlaysPerKind: Int

    /// Called for each warning line (an unreadable image, a missing prediction, the first mask resize).
    public var warn: (String) -> Void = { _ in }
    /// Called after each image.
    public var progress: () -> Void = {}

    /// False: image metrics from the scores alone (predictions without maps); pixel metrics are left out with a note.
    public var pixelMetrics = true

    /// Per-image maps written beside scores.jsonl (`eval --maps`): npy (what `clipad metrics` reads), png, none.
    public var maps: PredictionWriter.MapFormat = .none
    /// Colour scale of png maps (nil: each map's own range).
    public var mapRange: ClosedRange<Float>?

    public init(output: String, proMode: PROMode = .mvtec, overlaysPerKind: Int = 3) {
        self.output = output
        self.proMode = proMode
        self.overlaysPerKind = overlaysPerKind
    }

    /// Runs `predict` over every sample (classes in sorted order), then writes the outputs. `overlayImage`
    /// gives the image at the map's size for the overlay panels.
    public func run(samples: [String: [DatasetSample]], method: String, settings: [(key: String, value: String)],
                    predict: (DatasetSample) throws -> MapPrediction,
                    overlayImage: (DatasetSample, _ width: Int, _ height: Int) throws -> Image) throws -> EvaluationReport {
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var warnedResize = false
        var results: [ClassResult] = []
        for name in samples.keys.sorted() {
            var scored: [(sample: DatasetSample, score: Float)] = []
            var pixels: [PixelSample] = []
            var skipped = 0
            for sample in samples[name] ?? [] {
                defer { progress() }
                do {
                    let p = try predict(sample)
                    guard pixelMetrics else {
                        scored.append((sample, p.score))
                        writer.record(image: sample.imagePath, score: p.score,
                                      extra: [("class", jsonString(name)), ("label", sample.label ? "1" : "0")])
                        continue
                    }
                    var mask = try sample.loadMask(decode: Self.decodeMask)
                    if let m = mask, let size = p.imageSize, (m.width, m.height) != size {
                        if !warnedResize {
                            warn("warning: \(sample.maskPath ?? ""): mask is \(m.width)x\(m.height), image \(size.width)x\(size.height); resizing masks NEAREST (warned once)")
                            warnedResize = true
                        }
                        mask = Self.resized(m, width: size.width, height: size.height)
                    }
                    let atMapSize = mask.map { Self.resized($0, width: p.width, height: p.height) }
                    let pixel = try PixelSample(width: p.width, height: p.height, scores: p.map,
                                                mask: atMapSize.map { $0.pixels.map { $0 > 0 ? 1 : 0 } })
                    let mapFile = try writer.writeMap(p, for: sample.imagePath, range: mapRange) {
                        try overlayImage(sample, p.width, p.height)
                    }
                    pixels.append(pixel)
                    scored.append((sample, p.score))
                    writer.record(image: sample.imagePath, score: p.score, map: mapFile,
                                  extra: [("class", jsonString(name)), ("label", sample.label ? "1" : "0")])
                } catch {
                    skipped += 1
                    // Decoder errors already start with the path.
                    let message = "\(error)"
                    warn("skipped " + (message.hasPrefix(sample.imagePath) ? message : "\(sample.imagePath): \(message)"))
                }
            }
            var result = Self.metrics(name: name, scores: scored.map(\.score), labels: scored.map(\.sample.label),
                                      pixels: pixels, proMode: proMode)
            result.skipped = skipped
            if !pixelMetrics { result.notes.append("pixel metrics not computed: the predictions hold no maps (predict --maps npy writes them)") }
            if pixelMetrics { result.overlays = try overlays(name: name, scored: scored, pixels: pixels, threshold: result.pixelThreshold,
                                           overlayImage: overlayImage) }
            results.append(result)
        }
        try writer.finish()
        let report = EvaluationReport(method: method, settings: settings, classes: results)
        try report.write(to: output)
        return report
    }

    // MARK: - Metrics

    /// A class's metrics; a metric that cannot be computed is nil with a note saying why.
    public static func metrics(name: String, scores: [Float], labels: [Bool], pixels: [PixelSample],
                               proMode: PROMode) -> ClassResult {
        var m = ClassMetrics(), notes: [String] = []
        do {
            let i = try ImageMetrics.compute(scores: scores, labels: labels)
            m.imageAUROC = i.auroc; m.imageAP = i.averagePrecision; m.imageF1Max = i.f1Max
        } catch { notes.append("image metrics: \(error)") }
        var threshold: Float?
        if !pixels.isEmpty {
            // One pass with AUPRO; when AUPRO alone is undefined, the other three without it.
            do {
                let p = try PixelMetrics.compute(pixels, proMode: proMode)
                m.pixelAUROC = p.auroc; m.pixelAP = p.averagePrecision; m.pixelF1Max = p.f1Max; m.pixelAUPRO = p.aupro
            } catch {
                notes.append("pixel metrics: \(error)")
                if let p = try? PixelMetrics.compute(pixels, proMode: nil) {
                    m.pixelAUROC = p.auroc; m.pixelAP = p.averagePrecision; m.pixelF1Max = p.f1Max
                }
            }
            threshold = PixelThreshold.f1Max(pixels)
        }
        return ClassResult(name: name, images: scores.count, anomalous: labels.filter { $0 }.count, metrics: m,
                           notes: notes, pixelThreshold: threshold)
    }

    // MARK: - Overlays

    /// Worst cases: normal images scored highest and anomalous ones scored lowest (score min-max scaled over the
    /// class); best: the opposite. Ties keep dataset order.
    static func pick(scores: [Float], labels: [Bool], count: Int) -> (worst: [Int], best: [Int]) {
        guard let lo = scores.min(), let hi = scores.max() else { return ([], []) }
        let span = hi > lo ? hi - lo : 1
        let badness = zip(scores, labels).map { s, anomalous in anomalous ? (hi - s) / span : (s - lo) / span }
        let order = badness.indices.sorted { badness[$0] != badness[$1] ? badness[$0] > badness[$1] : $0 < $1 }
        let worst = Array(order.prefix(count))
        let best = Array(order.reversed().filter { !worst.contains($0) }.prefix(count))
        return (worst, best)
    }

    func overlays(name: String, scored: [(sample: DatasetSample, score: Float)], pixels: [PixelSample],
                  threshold: Float?, overlayImage: (DatasetSample, Int, Int) throws -> Image) throws -> [OverlayEntry] {
        let (worst, best) = Self.pick(scores: scored.map(\.score), labels: scored.map(\.sample.label), count: overlaysPerKind)
        let lo = pixels.compactMap { $0.scores.min() }.min() ?? 0, hi = pixels.compactMap { $0.scores.max() }.max() ?? 1
        let dir = FileTree.join(output, "overlays", Self.safeName(name))
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var entries: [OverlayEntry] = []
        for (kind, picks) in [(OverlayEntry.Kind.worst, worst), (.best, best)] {
            for (rank, i) in picks.enumerated() {
                let (sample, score) = scored[i]
                let image: Image
                do { image = try overlayImage(sample, pixels[i].width, pixels[i].height) } catch {
                    warn("error: \(sample.imagePath): overlay: \(error)")
                    continue
                }
                let panel = OverlayPanel.compose(image: image, map: pixels[i], range: lo...max(hi, lo), threshold: threshold)
                let file = FileTree.join(dir, "\(kind.rawValue)_\(rank + 1)_\(Self.safeName(FileTree.stem(sample.imagePath))).png")
                try AtomicFileWriter.write(try ImageEncoder.pngData(panel, name: file), to: file)
                entries.append(OverlayEntry(kind: kind, imagePath: sample.imagePath, label: sample.label, score: score, file: file))
            }
        }
        return entries
    }

    // MARK: - Masks

    static func decodeMask(_ path: String) throws -> GrayMask {
        let gray = try ImageDecoder.decodeGray(path: path)
        return GrayMask(width: gray.width, height: gray.height, pixels: gray.pixels)
    }

    static func resized(_ m: GrayMask, width: Int, height: Int) -> GrayMask {
        guard (m.width, m.height) != (width, height) else { return m }
        let r = PillowResize.nearest(Image(width: m.width, height: m.height, channels: 1, pixels: m.pixels),
                                     width: width, height: height)
        return GrayMask(width: width, height: height, pixels: r.pixels)
    }

    /// A file-name-safe version of a class or image name.
    static func safeName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}

extension EvaluationReport {
    /// Writes `metrics.json`, `metrics.csv` and `report.html` into `directory` (atomically, each).
    public func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data(jsonText().utf8), to: FileTree.join(directory, "metrics.json"))
        try AtomicFileWriter.write(Data(csvText().utf8), to: FileTree.join(directory, "metrics.csv"))
        let page = htmlText { FileManager.default.contents(atPath: $0) }
        try AtomicFileWriter.write(Data(page.utf8), to: FileTree.join(directory, "report.html"))
    }
}
