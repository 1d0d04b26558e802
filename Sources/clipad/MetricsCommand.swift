import ArgumentParser
import Detection
import Evaluation
import Foundation
import ImageIO

/// `clipad metrics`: score predictions already written by `clipad predict` against a dataset's ground truth.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Compute metrics for `clipad predict` or sharded `clipad eval` output (scores.jsonl + .npy maps; shards merged): metrics.json/csv, report.html.")

    @Option(parsing: .upToNextOption,
            help: "Folder(s) written by `clipad predict` or `clipad eval --shard I/N` (scores.jsonl and <stem>.npy maps); several folders (the shards of one run) are merged, and then every test image must be predicted exactly once.")
    var predictions: [String]
    @OptionGroup var data: EvaluationDataOptions

    func validate() throws {
        if predictions.isEmpty { throw ValidationError("--predictions needs at least one folder") }
        let output = URL(fileURLWithPath: data.output).standardizedFileURL.path
        if predictions.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == output }) {
            throw ValidationError("--output must differ from --predictions (its scores.jsonl would be replaced)")
        }
    }

    func run() throws {
        let samples = try data.testSamples()
        let set = try PredictionSet(directories: predictions)
        let shards: [(directory: String, shard: DatasetShard)] = try predictions.compactMap { dir in
            try DatasetShard.read(directory: dir).map { (directory: dir, shard: $0) }
        }
        if predictions.count > 1 || !shards.isEmpty {
            // Merging shards: the result must be the unsharded run's, so a hole is an error, not a skipped image.
            try DatasetShard.checkComplete(shards)
            let missing = samples.keys.sorted().flatMap { samples[$0] ?? [] }.filter { (try? set.entry(for: $0.imagePath)) == nil }
            if !missing.isEmpty {
                throw ValidationError("\(missing.count) test image(s) have no prediction in \(predictions.joined(separator: ", ")): "
                    + missing.prefix(5).map(\.imagePath).joined(separator: ", ") + (missing.count > 5 ? ", ..." : ""))
            }
        }
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "metrics")
        guard samples.values.joined().contains(where: { (try? set.entry(for: $0.imagePath)) != nil }) else {
            throw ValidationError("none of the dataset's test images has a prediction in \(set.directory)")
        }
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.pixelMetrics = set.hasMaps
        if !set.hasMaps {
            printError("note: \(set.directory) holds no .npy maps (predict --maps png|none): image metrics from the scores only")
        }
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        let settings = [(key: "predictions", value: predictions.joined(separator: ", ")), (key: "map_resolution", value: "as stored in each .npy; masks resized NEAREST to it")]
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
