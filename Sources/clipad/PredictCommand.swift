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
    @Option(help: "Per-image maps: npy | png | none.") var maps: PredictionWriter.MapFormat = .npy
    @Argument(help: "Image files or folders (searched recursively).") var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one image or folder") }
    }

    func run() throws {
        let images = try ImageInputs.expand(inputs)
        let runner = try methodOptions.makeRunner()
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var progress = ProgressLine(total: images.count, label: "predict")
        var failures = 0
        for path in images {
            do {
                let decoded = try ImageDecoder.decodeRGB(path: path)
                let result = try runner.predict(decoded)
                let stem = writer.uniqueStem(for: path)
                switch maps {
                case .npy: try writer.writeMap(result.map, height: result.height, width: result.width, stem: stem)
                case .png:
                    let heat = ColorMap.turbo.colorize(result.map, width: result.width, height: result.height, range: runner.mapRange)
                    let overlay = ColorMap.blend(runner.overlayBase(decoded), heat, alpha: 0.5)
                    try ImageEncoder.write(overlay, to: (output as NSString).appendingPathComponent("\(stem).png"))
                case .none: break
                }
                writer.record(image: path, score: result.score)
            } catch {
                failures += 1
                progress.interrupt("error: \(error)")
            }
            progress.advance()
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
