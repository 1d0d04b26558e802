import ArgumentParser
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

    func run() throws {
        let samples = try data.testSamples()
        let runner = try methodOptions.makeRunner()
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "eval")
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        let side = runner.mapSide
        let settings = runner.settings + [("map_resolution", "\(side)x\(side); masks resized NEAREST to it")] + data.settings
        let report = try evaluation.run(samples: samples, method: methodOptions.method.rawValue, settings: settings, predict: { sample in
            try runner.predict(try ImageDecoder.decodeRGB(path: sample.imagePath))
        }, overlayImage: { sample, _, _ in
            runner.overlayBase(try ImageDecoder.decodeRGB(path: sample.imagePath))
        })
        progress.finish("evaluated \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/")
    }
}
