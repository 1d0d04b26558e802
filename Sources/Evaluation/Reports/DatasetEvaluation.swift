import Checkpoint
import Foundation
import ImageIO
import Tensor

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
/// an overlay and thumbnail per image, `metrics.json`, `metrics.csv` and `report.html` (see docs/METRICS.md, "Evaluation runs").
/// Maps are evaluated at their own size; masks are binarised (> 0) and resized to it with NEAREST.
public struct DatasetEvaluation {
    public var output: String
    public var proMode: PROMode
    /// Worst and best cases listed per class (every image gets an overlay in the gallery).
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
    /// The overlays' colour rule; `fixed` uses `naturalMapRange` (the class's span when it is nil).
    public var colorScale = ColorScale.evaluationDefault
    public var naturalMapRange: ClosedRange<Float>?
    /// Calibrated thresholds: images are labelled and overlays cut with them; nil = the class's F1-max thresholds.
    public var thresholds: Thresholds?
    /// The image shown in the overlays at its own size (letterboxed, aspect kept); when it throws, `overlayImage`
    /// at the map's size is used, stretched back to the image's aspect ratio. Both are called for several images at
    /// once (the overlays are written on all cores), so they must not share mutable state.
    public var displayImage: (DatasetSample) throws -> Image = { try ImageDecoder.decodeRGB(path: $0.imagePath) }
    /// Side of each overlay panel's box, and of the gallery thumbnails' box.
    public var overlayBox = OverlayPanel.defaultBox
    public var thumbnailBox = 160

    public init(output: String, proMode: PROMode = .mvtec, overlaysPerKind: Int = 3) {
        self.output = output
        self.proMode = proMode
        self.overlaysPerKind = overlaysPerKind
    }

    /// Predictions for one class's samples: `deliver(i, result)` for i = 0, 1, ... in order, the prediction or the
    /// error of sample i (a pipeline that scores ahead in batches; `run(predict:)` calls one sample at a time).
    /// An error `deliver` or the stream throws stops the run.
    public typealias PredictionStream = (_ samples: [DatasetSample],
                                         _ deliver: (Int, Result<MapPrediction, any Error>) throws -> Void) throws -> Void

    /// Runs `predict` over every sample (classes in sorted order), then writes the outputs. `overlayImage`
    /// gives the image at the map's size for the overlay panels.
    public func run(samples: [String: [DatasetSample]], method: String, settings: [(key: String, value: String)],
                    predict: (DatasetSample) throws -> MapPrediction,
                    overlayImage: (DatasetSample, _ width: Int, _ height: Int) throws -> Image) throws -> EvaluationReport {
        try run(samples: samples, method: method, settings: settings, predictions: { list, deliver in
            for (i, sample) in list.enumerated() { try deliver(i, Result { try predict(sample) }) }
        }, overlayImage: overlayImage)
    }

    /// `run(predict:)` with the predictions streamed class by class: an image that could not be scored is skipped
    /// with a warning at its place in the order, as there.
    public func run(samples: [String: [DatasetSample]], method: String, settings: [(key: String, value: String)],
                    predictions: PredictionStream,
                    overlayImage: (DatasetSample, _ width: Int, _ height: Int) throws -> Image) throws -> EvaluationReport {
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var warnedResize = false
        var results: [ClassResult] = []
        for name in samples.keys.sorted() {
            var scored: [(sample: DatasetSample, score: Float)] = []
            var pixels: [PixelSample] = []
            var imageSizes: [(width: Int, height: Int)?] = []
            var skipped = 0
            let list = samples[name] ?? []
            // `overlayImage` is only called during this call, from the delivery closure `predictions` runs.
            try withoutActuallyEscaping(overlayImage) { overlayImage in try predictions(list) { i, prediction in
                let sample = list[i]
                defer { progress() }
                do {
                    let p = try prediction.get()
                    guard pixelMetrics else {
                        scored.append((sample, p.score))
                        writer.record(image: sample.imagePath, score: p.score,
                                      extra: [("class", jsonString(name)), ("label", sample.label ? "1" : "0")])
                        return
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
                    imageSizes.append(p.imageSize)
                    writer.record(image: sample.imagePath, score: p.score, map: mapFile,
                                  extra: [("class", jsonString(name)), ("label", sample.label ? "1" : "0")])
                } catch {
                    skipped += 1
                    // Decoder errors already start with the path.
                    let message = "\(error)"
                    warn("skipped " + (message.hasPrefix(sample.imagePath) ? message : "\(sample.imagePath): \(message)"))
                }
            } }
            var result = Self.metrics(name: name, scores: scored.map(\.score), labels: scored.map(\.sample.label),
                                      pixels: pixels, proMode: proMode)
            result.skipped = skipped
            if !pixelMetrics { result.notes.append("pixel metrics not computed: the predictions hold no maps (predict --maps npy writes them)") }
            describe(&result, scored: scored, pixels: pixels)
            if pixelMetrics { try writeOverlays(&result, scored: scored, pixels: pixels, imageSizes: imageSizes,
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

    /// Thresholds, curves, operating points, per-defect-type metrics and the gallery rows (without files).
    func describe(_ result: inout ClassResult, scored: [(sample: DatasetSample, score: Float)], pixels: [PixelSample]) {
        let scores = scored.map(\.score), labels = scored.map(\.sample.label)
        result.imageCurve = try? ScoreCurve.image(scores: scores, labels: labels)
        if let t = thresholds {
            result.imageThreshold = ImageThreshold(value: t.image, source: .calibrated)
            if !pixels.isEmpty { result.pixelThreshold = t.pixel; result.pixelThresholdSource = "calibrated" }
        } else if let t = result.imageCurve?.f1MaxThreshold {
            result.imageThreshold = ImageThreshold(value: t, source: .f1Max)
        }
        if let t = result.imageThreshold {
            result.imageOperatingPoint = OperatingPoint.image(scores: scores, labels: labels, threshold: t)
        }
        if !pixels.isEmpty {
            result.pixelCurve = ScoreCurve.pixel(pixels)
            if let t = result.pixelThreshold { result.pixelOperatingPoint = OperatingPoint.pixel(pixels, threshold: t) }
        }
        result.defectTypes = Self.defectTypes(scored: scored, pixels: pixels, threshold: result.imageThreshold)
        result.gallery = scored.map { s in
            GalleryEntry(imagePath: s.sample.imagePath, defectType: s.sample.defectType, label: s.sample.label,
                         score: s.score, predicted: result.imageThreshold.map { $0.isAnomalous(s.score) })
        }
    }

    /// Per defect type (sorted by name): the normal images with that type's anomalous ones.
    static func defectTypes(scored: [(sample: DatasetSample, score: Float)], pixels: [PixelSample],
                            threshold: ImageThreshold?) -> [DefectTypeResult] {
        let normals = scored.indices.filter { !scored[$0].sample.label }
        let types = Set(scored.filter(\.sample.label).map(\.sample.defectType)).sorted()
        return types.map { type in
            let defective = scored.indices.filter { scored[$0].sample.label && scored[$0].sample.defectType == type }
            let picked = normals + defective
            var m = ClassMetrics()
            let scores = picked.map { scored[$0].score }, labels = picked.map { scored[$0].sample.label }
            if let i = try? ImageMetrics.compute(scores: scores, labels: labels) { m.imageAUROC = i.auroc; m.imageAP = i.averagePrecision }
            if pixels.count == scored.count, let p = try? PixelMetrics.compute(picked.map { pixels[$0] }, proMode: nil) {
                m.pixelAUROC = p.auroc; m.pixelAP = p.averagePrecision
            }
            let detected = threshold.map { t in defective.filter { t.isAnomalous(scored[$0].score) }.count }
            return DefectTypeResult(name: type, images: picked.count, anomalous: defective.count, detected: detected, metrics: m)
        }
    }

    /// One overlay (and gallery thumbnail) per scored image, under `overlays/<class>/` and `thumbnails/<class>/`;
    /// the worst and best cases point at the same files.
    func writeOverlays(_ result: inout ClassResult, scored: [(sample: DatasetSample, score: Float)], pixels: [PixelSample],
                       imageSizes: [(width: Int, height: Int)?],
                       overlayImage: (DatasetSample, Int, Int) throws -> Image) throws {
        let folder = Self.safeName(result.name)
        let overlayDir = FileTree.join(output, "overlays", folder), thumbDir = FileTree.join(output, "thumbnails", folder)
        for dir in [overlayDir, thumbDir] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let classRange = ColorScale.span(pixels.map(\.scores))
        result.colorScale = colorScale
        result.colorRange = colorScale == .perImage ? nil : colorScale.range(of: [], classRange: classRange, natural: naturalMapRange)
        // Each image's overlay is independent of the others: compose and encode them on all cores (the forward pass
        // is over, so they are idle), then record the outcomes in order so warnings and the gallery read as before.
        var outcomes = [Result<OverlayOutcome, Error>?](repeating: nil, count: scored.count)
        outcomes.withUnsafeMutableBufferPointer { slots in
            Parallel.forEach(scored.count) { i in
                slots[i] = Result {
                    try writeOverlay(i, sample: scored[i].sample, score: scored[i].score, map: pixels[i],
                                     imageSize: imageSizes[i], result: result, classRange: classRange,
                                     overlayDir: overlayDir, thumbDir: thumbDir, overlayImage: overlayImage)
                }
            }
        }
        var files: [String?] = Array(repeating: nil, count: scored.count)
        for (i, outcome) in outcomes.enumerated() {
            guard let outcome else { continue }
            let written: OverlayFiles
            switch try outcome.get() {
            case .written(let files): written = files
            case .pictureUnavailable(let message): warn(message); continue
            }
            files[i] = written.overlayFile
            result.gallery[i].overlay = "overlays/\(folder)/\(written.stem).png"
            result.gallery[i].thumbnail = "thumbnails/\(folder)/\(written.stem).jpg"
            result.gallery[i].thumbnailWidth = written.thumbnailWidth
            result.gallery[i].thumbnailHeight = written.thumbnailHeight
        }
        let (worst, best) = Self.pick(scores: scored.map(\.score), labels: scored.map(\.sample.label), count: overlaysPerKind)
        for (kind, picks) in [(OverlayEntry.Kind.worst, worst), (.best, best)] {
            for i in picks {
                guard let file = files[i] else { continue }
                result.overlays.append(OverlayEntry(kind: kind, imagePath: scored[i].sample.imagePath, label: scored[i].sample.label,
                                                    score: scored[i].score, file: file))
            }
        }
    }

    /// What `writeOverlay` did for one image: the files it wrote, or the warning why the image's picture is missing
    /// (reported by the caller, in image order).
    enum OverlayOutcome {
        case written(OverlayFiles)
        case pictureUnavailable(String)
    }

    struct OverlayFiles {
        var stem: String
        var overlayFile: String
        var thumbnailWidth: Int
        var thumbnailHeight: Int
    }

    /// Image `i`'s overlay PNG and gallery thumbnail. Throws when a file cannot be written. Safe to run for several
    /// images at once: it reads only its arguments and writes only its own two files.
    func writeOverlay(_ i: Int, sample: DatasetSample, score: Float, map: PixelSample,
                      imageSize: (width: Int, height: Int)?, result: ClassResult, classRange: ClosedRange<Float>?,
                      overlayDir: String, thumbDir: String,
                      overlayImage: (DatasetSample, Int, Int) throws -> Image) throws -> OverlayOutcome {
        let image: Image, aspect: (width: Int, height: Int)?
        do {
            if let decoded = try? displayImage(sample) {
                image = decoded; aspect = (decoded.width, decoded.height)
            } else {
                image = try overlayImage(sample, map.width, map.height); aspect = imageSize
            }
        } catch {
            return .pictureUnavailable("error: \(sample.imagePath): overlay: \(error)")
        }
        let range = colorScale.range(of: map.scores, classRange: classRange, natural: naturalMapRange)
        let header = OverlayPanel.header(score: score, imageThreshold: result.imageThreshold, truth: sample.label,
                                         pixelThreshold: result.pixelThreshold, pixelSource: result.pixelThresholdSource)
        let composed = OverlayPanel.compose(image: image, map: map, range: range, scale: colorScale,
                                            threshold: result.pixelThreshold, aspect: aspect, header: header, box: overlayBox)
        let stem = String(format: "%04d_", i + 1) + Self.safeName(FileTree.stem(sample.imagePath))
        let overlayFile = FileTree.join(overlayDir, stem + ".png"), thumbFile = FileTree.join(thumbDir, stem + ".jpg")
        try AtomicFileWriter.write(try ImageEncoder.pngData(composed.picture, name: overlayFile), to: overlayFile)
        let (tw, th) = OverlayPanel.fit((composed.heat.width, composed.heat.height), into: thumbnailBox)
        let thumb = PillowResize.resize(composed.heat, width: tw, height: th, filter: .bilinear)
        try AtomicFileWriter.write(try ImageEncoder.jpegData(thumb, quality: 85, name: thumbFile), to: thumbFile)
        return .written(OverlayFiles(stem: stem, overlayFile: overlayFile, thumbnailWidth: tw, thumbnailHeight: th))
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
        try AtomicFileWriter.write(Data(htmlText().utf8), to: FileTree.join(directory, "report.html"))
    }
}
