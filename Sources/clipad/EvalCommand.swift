import ArgumentParser
import Detection
import Evaluation
import Foundation
import ImageIO

/// `clipad eval`: run a method over a dataset's test split and report image and pixel metrics.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a method on a dataset's test split: metrics.json/csv, report.html, scores.jsonl, overlays.")

    @OptionGroup var methodOptions: MethodOptions
    @OptionGroup var data: EvaluationDataOptions
    @Option(name: .customLong("color-scale"), help: ColorScaleHelp.text(default: .evaluationDefault))
    var colorScale: ColorScale = .evaluationDefault

    func run() throws {
        let (detector, warnings) = try methodOptions.makeDetector()
        let (samples, heldOut) = try data.testSamples().excluding(detector.learnedImages)
        if !detector.learnedImages.isEmpty {
            printError("left \(heldOut) of the detector's \(detector.learnedImages.count) shot(s) out of the test split (never score what was learned from)")
        }
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "eval")
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        evaluation.colorScale = colorScale
        evaluation.naturalMapRange = detector.naturalMapRange
        evaluation.thresholds = detector.thresholds?.thresholds
        let side = detector.mapSide
        var settings = detector.settings + [("map_resolution", "\(side)x\(side); masks resized NEAREST to it")] + data.settings
        settings += [("shots_left_out", "\(heldOut)"), ("clipad_version", ClipADVersion.current)] + warnings.map { ("warning", $0) }
        let report = try evaluation.run(samples: samples, method: methodOptions.method.rawValue, settings: settings, predict: { sample in
            try detector.predict(try ImageDecoder.decodeRGB(path: sample.imagePath), name: sample.imagePath).mapPrediction
        }, overlayImage: { sample, _, _ in
            detector.overlayBase(try ImageDecoder.decodeRGB(path: sample.imagePath))
        })
        progress.finish("evaluated \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/")
    }
}
