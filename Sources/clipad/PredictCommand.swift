import ArgumentParser
import Checkpoint
import Detection
import Evaluation
import Foundation
import ImageIO

/// `clipad predict`: anomaly scores (and maps) for images with a chosen method.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score images (scores.jsonl, run.json) and write anomaly maps (.npy or PNG overlays).")

    @OptionGroup var methodOptions: MethodOptions
    @OptionGroup var batching: BatchOptions
    @Option(help: "Output folder.") var output: String = "predictions"
    @Option(help: "Per-image maps: npy | png (overlay with score, thresholds and a colour bar) | none.") var maps: PredictionWriter.MapFormat = .npy
    @Option(name: .customLong("color-scale"), help: ColorScaleHelp.text(default: .predictionDefault))
    var colorScale: ColorScale = .predictionDefault
    @Option(help: "Binary masks when thresholds are known: png (<stem>_mask.png at the image's own size) | none.") var masks: MaskFormat = .png

    enum MaskFormat: String, ExpressibleByArgument { case png, none }
    @Argument(help: "Image files or folders (searched recursively; dataset mask folders are skipped).") var inputs: [String] = []

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one image or folder") }
        if colorScale == .perClass {
            throw ValidationError("--color-scale per-class needs a class's maps together: use `clipad eval` (predict colours each image on its own: per-image, or fixed)")
        }
    }

    func run() throws {
        let images = try ImageInputs.expand(inputs)
        let (detector, warnings) = try methodOptions.makeDetector()
        let limits = detector.thresholds?.thresholds
        if limits == nil { printError("note: no thresholds, so no labels or masks; `clipad calibrate` picks them from normal images") }
        let writer = try PredictionWriter(directory: output, mapFormat: maps, inputs: images)
        let runFile = try writer.outputPath("run.json")
        var progress = ProgressLine(total: images.count, label: "predict")
        var failures = 0
        let pipeline = try batching.pipeline(for: detector)
        // Outputs are written here, in input order, while the pipeline decodes the next images.
        try pipeline.run(images) { i, prediction in
            let path = images[i]
            defer { progress.advance() }
            do {
                let result = try prediction.get()
                let stem = writer.uniqueStem(for: path)
                var mapName: String? = nil
                switch maps {
                case .npy:
                    try writer.writeMap(result.map, height: result.mapSide, width: result.mapSide, stem: stem)
                    mapName = "\(stem).npy"
                case .png:
                    let map = try PixelSample(width: result.mapSide, height: result.mapSide, scores: result.map, mask: nil)
                    let range = colorScale.range(of: result.map, natural: detector.naturalMapRange)
                    let header = OverlayPanel.header(score: result.score, imageThreshold: limits.map { ImageThreshold(value: $0.image, source: .calibrated) },
                                                     truth: nil, pixelThreshold: limits?.pixel, pixelSource: "calibrated")
                    let panel = OverlayPanel.compose(image: try ImageDecoder.decodeRGB(path: path), map: map, range: range, scale: colorScale, threshold: limits?.pixel,
                                                     showTruth: false, header: header)
                    try ImageEncoder.write(panel.picture, to: try writer.outputPath("\(stem).png"))
                    mapName = "\(stem).png"
                case .none: break
                }
                guard let limits else { writer.record(image: path, score: result.score, map: mapName); return }
                var extra = [("label", "\(result.label ?? 0)"), ("image_threshold", "\(limits.image)")]
                if masks == .png {
                    let mask = PredictedMask.binary(result.mapPrediction, threshold: limits.pixel, width: result.imageWidth, height: result.imageHeight)
                    try ImageEncoder.write(mask, to: try writer.outputPath("\(stem)_mask.png"))
                    extra.append(("mask", jsonString("\(stem)_mask.png")))
                }
                writer.record(image: path, score: result.score, map: mapName, extra: extra)
            } catch let error as OutputGuard.OutputError {
                throw error   // the output folder is wrong for every image: stop before writing anything else
            } catch {
                failures += 1
                progress.interrupt("error: \(error)")
            }
        }
        try writer.finish()
        try RunRecord(spec: detector.spec, warnings: warnings, images: images.count, failures: failures).write(to: runFile)
        progress.finish("wrote \(images.count - failures) result(s) to \((output as NSString).appendingPathComponent("scores.jsonl"))")
        if failures > 0 {
            printError("\(failures) of \(images.count) image(s) failed")
            throw ExitCode(1)
        }
    }
}

extension PredictionWriter.MapFormat: ExpressibleByArgument {}
