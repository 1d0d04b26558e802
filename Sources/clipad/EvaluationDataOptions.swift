import ArgumentParser
import Evaluation
import Foundation

extension PROMode: ExpressibleByArgument {}

/// Options shared by `eval` and `metrics`: which dataset, which classes, where the report goes.
struct EvaluationDataOptions: ParsableArguments {
    @Option(help: "Dataset root (for --dataset list: the CSV/JSONL file).") var data: String
    @Option(help: "Layout: \(DatasetLayout.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: String
    @Option(help: "Comma-separated classes to evaluate (default: all).") var classes: String?
    @Option(name: .customLong("train-normals"),
            help: "Leading normal images kept out of the test split (magnetic-tile default 16; folder without train/ default 0).")
    var trainNormals: Int?
    @Option(name: .customLong("pro-mode"), help: "AUPRO definition: mvtec (official) | anomalyclip.") var proMode: PROMode = .mvtec
    @Option(help: "Output folder (metrics.json, metrics.csv, report.html, scores.jsonl, overlays/).") var output: String

    func validate() throws {
        _ = try DatasetLayout(name: dataset)
        if let n = trainNormals, n < 0 { throw ValidationError("--train-normals must be >= 0") }
    }

    /// The test split, by class.
    func testSamples() throws -> [String: [DatasetSample]] { try samples(.test) }

    /// The train split (anomaly-free images the few-shot protocol draws its shots from), by class.
    func trainSamples() throws -> [String: [DatasetSample]] { try samples(.train) }

    func samples(_ split: DatasetSplit) throws -> [String: [DatasetSample]] {
        let layout = try DatasetLayout(name: dataset)
        let normals = trainNormals ?? (layout == .magneticTile ? 16 : 0)
        let wanted = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        return try layout.reader(root: data, trainNormals: normals).samples(split: split, classes: wanted)
    }

    /// Settings every report records.
    var settings: [(key: String, value: String)] {
        var s: [(key: String, value: String)] = [("data", data), ("dataset", dataset), ("pro_mode", proMode.rawValue)]
        if let classes { s.append(("classes", classes)) }
        if let layout = try? DatasetLayout(name: dataset), layout == .magneticTile || layout == .folder {
            s.append(("train_normals", "\(trainNormals ?? (layout == .magneticTile ? 16 : 0))"))
        }
        return s
    }
}
