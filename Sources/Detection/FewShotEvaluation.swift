import Evaluation
import Foundation
import ImageIO

/// The seeded few-shot protocol (`clipad eval --shot-count K --seeds 0,1,2`): per class and per seed, draw K normal
/// images from the class's train split with the seed (`ShotSelection`), fit (`ShotFitting`), evaluate on the class's
/// test split (the shots left out), then report each metric as mean ± std over the seeds (`SeedSummary`).
/// Fitting runs once per class and seed; each test image is encoded once per class and re-scored by every seed's
/// detector (`TestFeatureCache`). Writes `seed-<s>/<class>/` (that run's scores, overlays, maps), `seed-<s>/`
/// (the seed's report over all classes) and the aggregate `metrics.json`, `metrics.csv`, `report.html` on top.
public struct FewShotEvaluation {
    /// Method, CLIP checkpoint, activation, ...; a class name set here is used for every class, else each class's own.
    public var spec: DetectorSpec
    public var shotCount: Int
    public var seeds: [UInt64]
    public var promptAD = ShotFitting.PromptADOptions()
    public var factory = DetectorFactory.Options()
    public var output: String
    public var proMode: PROMode = .mvtec
    public var maps: PredictionWriter.MapFormat = .none
    /// The overlays' colour rule (as `eval` without the protocol).
    public var colorScale = ColorScale.evaluationDefault
    /// Dataset settings every report records.
    public var settings: [(key: String, value: String)] = []

    /// Warnings and one line per fitted (class, seed).
    public var notice: (String) -> Void = { _ in }
    /// Called after each image scored.
    public var progress: () -> Void = {}
    public var fitEvents: (ShotFitting.Event) -> Void = { _ in }

    public init(spec: DetectorSpec, shotCount: Int, seeds: [UInt64], output: String) {
        self.spec = spec
        self.shotCount = shotCount
        self.seeds = seeds
        self.output = output
    }

    /// Seconds and counts the protocol measured (what the feature cache saved).
    public struct Timing: Sendable {
        public var fitSeconds = 0.0
        public var encodeSeconds = 0.0
        public var scoreSeconds = 0.0
        public var encodings = 0
        public var reuses = 0
    }

    /// Runs the protocol on the classes of `test`; `train` gives each class's candidate shots.
    public func run(train: [String: [DatasetSample]], test: [String: [DatasetSample]]) throws -> (summary: SeedSummary, timing: Timing) {
        guard !seeds.isEmpty else { throw DetectionError.badSetting(setting: "seeds", reason: "give at least one seed") }
        guard Set(seeds).count == seeds.count else { throw DetectionError.badSetting(setting: "seeds", reason: "a seed is repeated") }
        var results: [UInt64: [ClassResult]] = [:], shots: [UInt64: [String: [String]]] = [:]
        var seedSettings: [UInt64: [(key: String, value: String)]] = [:]
        var timing = Timing()
        let cache = TestFeatureCache()
        for name in test.keys.sorted() {
            let candidates = (train[name] ?? []).map(\.imagePath)
            guard !candidates.isEmpty else {
                throw DetectionError.badSetting(setting: "shot-count", reason: "class '\(name)' has no train split to draw shots from")
            }
            guard shotCount <= candidates.count else {
                throw DetectionError.badSetting(setting: "shot-count", reason: "class '\(name)' has \(candidates.count) training image(s), fewer than \(shotCount)")
            }
            for seed in seeds {
                let drawn = try ShotSelection.choose(from: candidates, count: shotCount, seed: seed)
                var request = ShotFitting.Request(spec: spec, shots: drawn, seed: seed)
                request.spec.className = spec.className ?? name
                request.promptAD = promptAD
                let fitted = try ShotFitting.fit(request, options: factory, events: fitEvents)
                timing.fitSeconds += fitted.seconds
                let detector = fitted.detector
                notice(String(format: "%@, seed %llu: fitted on %d shot(s) in %.1f s: %@", name, seed, drawn.count, fitted.seconds,
                              drawn.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))
                let (samples, _) = [name: test[name] ?? []].excluding(drawn)
                var evaluation = DatasetEvaluation(output: ((output as NSString).appendingPathComponent(Self.seedFolder(seed)) as NSString).appendingPathComponent(Self.folderName(name)), proMode: proMode)
                evaluation.maps = maps
                evaluation.mapRange = colorScale == .fixed ? detector.naturalMapRange : nil
                evaluation.colorScale = colorScale
                evaluation.naturalMapRange = detector.naturalMapRange
                evaluation.warn = notice
                evaluation.progress = progress
                let runSettings = detector.settings + settings
                    + [("shot_count", "\(shotCount)"), ("seed", "\(seed)"), ("clipad_version", ClipADVersion.current)]
                let report = try evaluation.run(samples: samples, method: spec.method.rawValue, settings: runSettings + [("shots", drawn.joined(separator: ", "))],
                                                predict: { try cache.prediction(for: $0.imagePath, detector: detector) },
                                                overlayImage: { sample, _, _ in detector.overlayBase(try ImageDecoder.decodeRGB(path: sample.imagePath)) })
                results[seed, default: []] += report.classes
                shots[seed, default: [:]][name] = drawn
                if seedSettings[seed] == nil { seedSettings[seed] = runSettings.filter { $0.key != "class_name" } }
            }
            cache.removeAll()
        }
        timing.encodeSeconds = cache.encodeSeconds
        timing.scoreSeconds = cache.scoreSeconds
        timing.encodings = cache.encodings
        timing.reuses = cache.reuses
        var runs: [SeedSummary.Run] = []
        for seed in seeds {
            let report = EvaluationReport(method: spec.method.rawValue, settings: seedSettings[seed] ?? [], classes: results[seed] ?? [])
            try report.write(to: (output as NSString).appendingPathComponent(Self.seedFolder(seed)))
            runs.append(SeedSummary.Run(seed: seed, report: report, folder: Self.seedFolder(seed), shots: shots[seed] ?? [:]))
        }
        let protocolSettings: [(key: String, value: String)] = [
            ("shot_count", "\(shotCount)"), ("seeds", seeds.map(String.init).joined(separator: ",")),
            ("shots_from", "each class's train split, drawn per seed (seeded Fisher-Yates over the sorted paths)"),
            ("std", SeedSummary.deviation),
            ("feature_cache", String(format: "%d test image(s) encoded once (%.1f s), re-scored %d time(s) for the other seeds (%.1f s scoring in all)",
                                     timing.encodings, timing.encodeSeconds, timing.reuses, timing.scoreSeconds)),
            ("fit_seconds", String(format: "%.1f", timing.fitSeconds)), ("clipad_version", ClipADVersion.current)]
        let summary = SeedSummary(method: spec.method.rawValue, settings: protocolSettings + settings, runs: runs)
        try summary.write(to: output)
        return (summary, timing)
    }

    public static func seedFolder(_ seed: UInt64) -> String { "seed-\(seed)" }

    /// A class name as a folder name (path separators and odd characters replaced).
    static func folderName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}
