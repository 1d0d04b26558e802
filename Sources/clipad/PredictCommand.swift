import AnomalyCLIP
import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor

/// `clipad predict`: anomaly scores (and maps) for images with a chosen method.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score images (scores.jsonl) and write anomaly maps (.npy or PNG overlays).")

    enum Method: String, ExpressibleByArgument, CaseIterable { case anomalyclip, promptad, winclip }

    @Option(help: "Method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).") var method: Method
    @OptionGroup var clipOptions: CLIPOptions
    @OptionGroup var anomalyCLIP: AnomalyCLIPOptions
    @Option(help: "Output folder.") var output: String = "predictions"
    @Option(help: "Per-image maps: npy | png | none.") var maps: PredictionWriter.MapFormat = .npy
    @Argument(help: "Image files or folders (searched recursively).") var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one image or folder") }
        if method != .anomalyclip {
            throw ValidationError("--method \(method.rawValue) is not available yet in this build (anomalyclip is)")
        }
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        try anomalyCLIP.requirePrompts()
    }

    func run() throws {
        let images = try ImageInputs.expand(inputs)
        let detector = try anomalyCLIP.makeDetector(clipOptions: clipOptions)
        let config = detector.configuration
        let preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var progress = ProgressLine(total: images.count, label: "predict")
        var failures = 0
        for path in images {
            do {
                let decoded = try ImageDecoder.decodeRGB(path: path)
                let pixels = preprocessor.tensor(from: decoded)
                let result = detector.detect(pixels.reshaped([1, 3, config.imageSize, config.imageSize]))
                let stem = writer.uniqueStem(for: path)
                let map = result.maps[0]
                switch maps {
                case .npy: try writer.writeMap(map.scalars, height: config.imageSize, width: config.imageSize, stem: stem)
                case .png:
                    let heat = ColorMap.turbo.colorize(map.scalars, width: config.imageSize, height: config.imageSize,
                                                       range: 0...Float(config.featureLayers.count))
                    let overlay = ColorMap.blend(preprocessor.resized(decoded), heat, alpha: 0.5)
                    try ImageEncoder.write(overlay, to: (output as NSString).appendingPathComponent("\(stem).png"))
                case .none: break
                }
                writer.record(image: path, score: result.imageScores[0])
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
