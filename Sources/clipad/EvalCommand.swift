import ArgumentParser
import Checkpoint
import Detection
import Evaluation
import Foundation
import ImageIO

/// `clipad eval`: run a method over a dataset's test split and report image and pixel metrics; with `--shot-count`
/// and `--seeds` the seeded few-shot protocol; with `--shard I/N` one part of the predictions.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a method on a dataset's test split: metrics.json/csv, report.html, scores.jsonl, overlays.")

    @OptionGroup var methodOptions: MethodOptions
    @OptionGroup var data: EvaluationDataOptions
    @OptionGroup var batching: BatchOptions
    @Option(help: "Per-image maps written beside scores.jsonl: npy (what `clipad metrics` reads) | png (overlay with a colour bar) | none (default; with --shard: npy).")
    var maps: PredictionWriter.MapFormat?
    @Option(name: .customLong("shot-count"), help: "Few-shot protocol (promptad, winclip, anomalyclip): per class and seed, draw this many shots from the class's train split, fit, evaluate; needs --seeds.")
    var shotCount: Int?
    @Option(help: "Few-shot protocol: comma-separated seeds, one draw (and fit) each; metrics are reported as mean ± sample std over them.")
    var seeds: String?
    @Option(help: "Few-shot protocol, PromptAD: epochs of prompt learning per fit (default: fit's).") var epochs: Int?
    @Option(help: "Score only shard I of N (I in 0..<N: sample j of each class's sorted list goes to shard j mod N); writes predictions for `clipad metrics --predictions` to merge.")
    var shard: String?

    @Option(name: .customLong("color-scale"), help: ColorScaleHelp.text(default: .evaluationDefault))
    var colorScale: ColorScale = .evaluationDefault

    func validate() throws {
        if let k = shotCount, k < 1 { throw ValidationError("--shot-count must be >= 1, got \(k)") }
        if (shotCount == nil) != (seeds == nil) {
            throw ValidationError("--shot-count and --seeds go together (e.g. --shot-count 4 --seeds 0,1,2)")
        }
        if let seeds, Self.parseSeeds(seeds) == nil {
            throw ValidationError("--seeds must be comma-separated non-negative integers, got '\(seeds)'")
        }
        if let e = epochs, e < 0 { throw ValidationError("--epochs must be >= 0") }
        if epochs != nil && shotCount == nil { throw ValidationError("--epochs applies to the few-shot protocol (--shot-count) only") }
        if shotCount != nil {
            if !methodOptions.shots.isEmpty { throw ValidationError("--shots and --shot-count exclude each other: the protocol draws its shots from each class's train split") }
            if methodOptions.model != nil { throw ValidationError("--model and --shot-count exclude each other: the protocol fits a model per class and seed") }
            if shard != nil { throw ValidationError("--shard and --shot-count exclude each other (shard a single detector's evaluation)") }
            if methodOptions.thresholds != nil { throw ValidationError("--thresholds means nothing with --shot-count (each seed's fit is uncalibrated)") }
        }
        if let shard {
            do { _ = try DatasetShard(parsing: shard) } catch { throw ValidationError("\(error)") }
            if maps == .png { throw ValidationError("--shard writes maps for `clipad metrics`: --maps npy (the default) or none (image metrics only)") }
        }
    }

    static func parseSeeds(_ s: String) -> [UInt64]? {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        let seeds = parts.compactMap { $0 }
        return Set(seeds).count == seeds.count ? seeds : nil
    }

    func run() throws {
        if let shotCount, let seeds = seeds.flatMap(Self.parseSeeds) { return try runProtocol(shotCount: shotCount, seeds: seeds) }
        let (detector, warnings) = try methodOptions.makeDetector()
        let (samples, heldOut) = try data.testSamples().excluding(detector.learnedImages)
        if !detector.learnedImages.isEmpty {
            printError("left \(heldOut) of the detector's \(detector.learnedImages.count) shot(s) out of the test split (never score what was learned from)")
        }
        if let shard = try shard.map(DatasetShard.init(parsing:)) {
            return try runShard(shard, samples: shard.select(samples), detector: detector, warnings: warnings)
        }
        let side = detector.mapSide
        var settings = detector.settings + [("map_resolution", "\(side)x\(side); masks resized NEAREST to it")] + data.settings
        settings += [("shots_left_out", "\(heldOut)"), ("clipad_version", ClipADVersion.current)] + warnings.map { ("warning", $0) }
        var progress = ProgressLine(total: samples.values.reduce(0) { $0 + $1.count }, label: "eval")
        var evaluation = DatasetEvaluation(output: data.output, proMode: data.proMode)
        evaluation.maps = maps ?? .none
        evaluation.mapRange = colorScale == .fixed ? detector.naturalMapRange : nil   // --maps png: one image at a time
        evaluation.warn = { progress.interrupt($0) }
        evaluation.progress = { progress.advance() }
        evaluation.colorScale = colorScale
        evaluation.naturalMapRange = detector.naturalMapRange
        evaluation.thresholds = detector.thresholds?.thresholds
        let pipeline = try batching.pipeline(for: detector)
        let report = try evaluation.run(samples: samples, method: methodOptions.method.rawValue, settings: settings,
                                        predictions: pipeline.stream, overlayImage: { sample, _, _ in
            detector.overlayBase(try ImageDecoder.decodeRGB(path: sample.imagePath))
        })
        progress.finish("evaluated \(report.classes.reduce(0) { $0 + $1.images }) image(s) in \(report.classes.count) class(es)")
        print(report.tableText(), terminator: "")
        for c in report.classes { for note in c.notes { printError("\(c.name): \(note)") } }
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html, scores.jsonl, overlays/\(maps.map { $0 == .none ? "" : ", <stem>.\($0.rawValue) maps" } ?? "")")
    }

    /// One shard: predictions only (scores.jsonl, maps, run.json, shard.json); `clipad metrics` merges the shards.
    func runShard(_ shard: DatasetShard, samples: [String: [DatasetSample]], detector: any Detector, warnings: [String]) throws {
        let writer = try PredictionWriter(directory: data.output, mapFormat: maps ?? .npy, inputs: samples.values.flatMap { $0.map(\.imagePath) })
        let runFile = try writer.outputPath("run.json")
        let total = samples.values.reduce(0) { $0 + $1.count }
        var progress = ProgressLine(total: total, label: "eval shard \(shard.index)/\(shard.count)")
        let pipeline = try batching.pipeline(for: detector)
        for name in samples.keys.sorted() {
            let list = samples[name] ?? []
            try pipeline.stream(list) { i, prediction in
                let sample = list[i]
                // An image that cannot be scored stops the shard: a merged set with a hole would not be the dataset's metrics.
                let p = try prediction.get()
                let mapFile = try writer.writeMap(p, for: sample.imagePath, range: nil) { PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: p.width, height: p.height) }
                try writer.append(image: sample.imagePath, score: p.score, map: mapFile,
                                  extra: [("class", jsonString(name)), ("label", sample.label ? "1" : "0"),
                                          ("image_width", "\(p.imageSize?.width ?? 0)"), ("image_height", "\(p.imageSize?.height ?? 0)")])
                progress.advance()
            }
        }
        try writer.finish()
        try RunRecord(spec: detector.spec, warnings: warnings, images: total, failures: 0).write(to: runFile)
        try shard.write(to: data.output, images: total)
        progress.finish("shard \(shard.index)/\(shard.count): \(total) image(s)")
        print("wrote \(data.output)/scores.jsonl (\(total) image(s)), maps, shard.json; merge the shards with `clipad metrics --predictions DIR...`")
    }

    /// The seeded few-shot protocol over the dataset's classes.
    func runProtocol(shotCount: Int, seeds: [UInt64]) throws {
        let test = try data.testSamples(), train = try data.trainSamples()
        var run = FewShotEvaluation(spec: try methodOptions.request(), shotCount: shotCount, seeds: seeds, output: data.output)
        if let epochs { run.promptAD.configuration.epochs = epochs }
        run.factory = DetectorFactory.Options(notice: printError)
        run.proMode = data.proMode
        run.maps = maps ?? .none
        run.colorScale = colorScale
        run.settings = data.settings
        var progress = ProgressLine(total: test.values.reduce(0) { $0 + $1.count } * seeds.count, label: "eval \(seeds.count) seed(s)")
        run.notice = { progress.interrupt($0) }
        run.progress = { progress.advance() }
        let start = Date()
        let (summary, timing) = try run.run(train: train, test: test)
        progress.finish(String(format: "%d class(es) x %d seed(s) in %.1f s: fitting %.1f s; %d test image(s) encoded once (%.1f s), %d re-scorings (%.1f s scoring in all)",
                               summary.classNames.count, seeds.count, Date().timeIntervalSince(start), timing.fitSeconds,
                               timing.encodings, timing.encodeSeconds, timing.reuses, timing.scoreSeconds))
        print(summary.tableText(), terminator: "")
        print("wrote \(data.output)/metrics.json, metrics.csv, report.html (mean ± std) and \(seeds.map { "\(data.output)/\(FewShotEvaluation.seedFolder($0))/" }.joined(separator: ", ")) (each seed's reports and drawn shots)")
    }
}
