import ArgumentParser
import Evaluation
import Foundation
import ImageIO

/// `clipad metrics`: score predictions already written by `clipad predict` against a dataset's ground truth.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Compute metrics for `clipad predict` output (scores.jsonl + .npy maps): metrics.json/csv, report.html.")

    @Option(help: "Folder written by `clipad predict` (scores.jsonl and <stem>.npy maps).") var predictions: String
    @OptionGroup var data: EvaluationDataOptions

    func validate() throws {
        let same = URL(fileURLWithPath: predictions).standardizedFileURL.path
            == URL(fileURLWithPath: data.output).standardizedFileURL.path
        if same { throw ValidationError("--output must differ from --predictions (its scores.jsonl would be replaced)") }
    }

    func run() throws {
        let samples = try data.testSamples()
        let set = try PredictionSet(directory: predictions)
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "metrics")
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        let settings = [(key: "predictions", value: predictions), (key: "map_resolution", value: "as stored in each .npy; masks resized NEAREST to it")]
            + data.settings
        let report = try evaluation.run(samples: samples, method: "predictions", settings: settings, predict: { sample in
            try set.prediction(for: sample.imagePath)
        }, overlayImage: { sample, width, height in
            PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: width, height: height)
        })
        progress.finish("scored \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/")
    }
}
