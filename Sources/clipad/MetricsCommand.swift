import ArgumentParser
import Detection
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
        guard samples.values.joined().contains(where: { (try? set.entry(for: $0.imagePath)) != nil }) else {
            throw ValidationError("none of the dataset's test images has a prediction in \(predictions)/scores.jsonl")
        }
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.pixelMetrics = set.hasMaps
        if !set.hasMaps {
            printError("note: \(predictions) holds no .npy maps (predict --maps png|none): image metrics from the scores only")
        }
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        let settings = [(key: "predictions", value: predictions), (key: "map_resolution", value: "as stored in each .npy; masks resized NEAREST to it")]
            + data.settings + [(key: "clipad_version", value: ClipADVersion.current)]
        let report = try evaluation.run(samples: samples, method: "predictions", settings: settings, predict: { sample in
            set.hasMaps ? try set.prediction(for: sample.imagePath) : try set.scoreOnly(for: sample.imagePath)
        }, overlayImage: { sample, width, height in
            PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: width, height: height)
        })
        progress.finish("scored \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/")
    }
}
