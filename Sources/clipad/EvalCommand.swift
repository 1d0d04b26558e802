import AnomalyCLIP
import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO

/// `clipad eval`: run a method over a dataset's test split and report image and pixel metrics.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a method on a dataset's test split: metrics.json/csv, report.html, scores.jsonl, overlays.")

    @Option(help: "Method: \(PredictCommand.Method.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: PredictCommand.Method
    @OptionGroup var clipOptions: CLIPOptions
    @OptionGroup var anomalyCLIP: AnomalyCLIPOptions
    @OptionGroup var data: EvaluationDataOptions

    func validate() throws {
        if method != .anomalyclip {
            throw ValidationError("--method \(method.rawValue) is not available yet in this build (anomalyclip is)")
        }
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        try anomalyCLIP.requirePrompts()
    }

    func run() throws {
        let samples = try data.testSamples()
        let detector = try anomalyCLIP.makeDetector(clipOptions: clipOptions)
        let config = detector.configuration
        let side = config.imageSize
        let preprocessor = ImagePreprocessor(size: side, resize: .square)
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "eval")
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        var settings: [(key: String, value: String)] = [
            ("clip", clipOptions.clip ?? ""), ("prompts", anomalyCLIP.prompts ?? ""),
            ("activation", detector.model.activation.rawValue), ("image_size", "\(side)"),
            ("layers", config.featureLayers.map(String.init).joined(separator: ",")),
            ("dpam_blocks", "\(config.dpamBlocks)"),
            ("map_resolution", "\(side)x\(side); masks resized NEAREST to it"),
        ]
        settings += data.settings
        let report = try evaluation.run(samples: samples, method: method.rawValue, settings: settings, predict: { sample in
            let image = try ImageDecoder.decodeRGB(path: sample.imagePath)
            let result = detector.detect(preprocessor.tensor(from: image).reshaped([1, 3, side, side]))
            return MapPrediction(map: result.maps[0].scalars, width: side, height: side, score: result.imageScores[0],
                                 imageSize: (image.width, image.height))
        }, overlayImage: { sample, _, _ in
            preprocessor.resized(try ImageDecoder.decodeRGB(path: sample.imagePath))
        })
        progress.finish("evaluated \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/")
    }
}
