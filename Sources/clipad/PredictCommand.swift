import ArgumentParser
import Evaluation
import Foundation
import ImageIO

/// `clipad predict`: anomaly scores (and maps) for images with a chosen method.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score images (scores.jsonl) and write anomaly maps (.npy or PNG overlays).")

    @OptionGroup var methodOptions: MethodOptions
    @Option(help: "Output folder.") var output: String = "predictions"
    @Option(help: "Per-image maps: npy | png (overlay with a colour bar) | none.") var maps: PredictionWriter.MapFormat = .npy
    @Option(help: "Thresholds JSON from `clipad calibrate` (default: those stored in the model file, if any).") var thresholds: String?
    @Option(help: "Binary masks when thresholds are known: png (<stem>_mask.png at the image's own size) | none.") var masks: MaskFormat = .png

    enum MaskFormat: String, ExpressibleByArgument { case png, none }
    @Argument(help: "Image files or folders (searched recursively).") var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one image or folder") }
    }

    func run() throws {
        let images = try ImageInputs.expand(inputs)
        let runner = try methodOptions.makeRunner()
        let limits = try thresholds.map(Thresholds.read(jsonFile:)) ?? runner.storedThresholds
        if limits == nil { printError("note: no thresholds, so no labels or masks; `clipad calibrate` picks them from normal images") }
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var progress = ProgressLine(total: images.count, label: "predict")
        var failures = 0
        for path in images {
            defer { progress.advance() }
            do {
                let decoded = try ImageDecoder.decodeRGB(path: path)
                let result = try runner.predict(decoded)
                let stem = writer.uniqueStem(for: path)
                switch maps {
                case .npy: try writer.writeMap(result.map, height: result.height, width: result.width, stem: stem)
                case .png:
                    let heat = ColorMap.turbo.colorize(result.map, width: result.width, height: result.height, range: runner.mapRange)
                    let overlay = ColorMap.blend(runner.overlayBase(decoded), heat, alpha: 0.5)
                    let panel = OverlayPanel.sideBySide([overlay, ColorBar.render(height: result.height, range: runner.mapRange)], gap: 4)
                    try ImageEncoder.write(panel, to: (output as NSString).appendingPathComponent("\(stem).png"))
                case .none: break
                }
                guard let limits else { writer.record(image: path, score: result.score); continue }
                if masks == .png {
                    let mask = PredictedMask.binary(result, threshold: limits.pixel, width: decoded.width, height: decoded.height)
                    try ImageEncoder.write(mask, to: (output as NSString).appendingPathComponent("\(stem)_mask.png"))
                }
                writer.record(image: path, score: result.score,
                              extra: [("label", result.score > limits.image ? "1" : "0"), ("image_threshold", "\(limits.image)")])
            } catch {
                failures += 1
                progress.interrupt("error: \(error)")
            }
        }
        try writer.finish()
        progress.finish("wrote \(images.count - failures) result(s) to \((output as NSString).appendingPathComponent("scores.jsonl"))")
        if failures > 0 {
            printError("\(failures) of \(images.count) image(s) failed")
            throw ExitCode(1)
        }
    }
}

extension PredictionWriter.MapFormat: ExpressibleByArgument {}
