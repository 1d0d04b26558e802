/// The seeded few-shot protocol's aggregate: one `EvaluationReport` per seed (each seed drew its own shots), and
/// every metric as mean ± standard deviation over the seeds, per class and overall. The standard deviation is the
/// SAMPLE one (divisor n − 1, n = seeds where the metric is defined; undefined for one seed), because the seeds
/// are a sample of the possible draws. Overall = per seed the mean over classes, then mean ± std of those over the
/// seeds (so the spread says how much the headline number moves with the draw).
public struct SeedSummary: Sendable {
    /// One seed's run.
    public struct Run: Sendable {
        public var seed: UInt64
        public var report: EvaluationReport
        /// Folder of the run's own report, relative to the summary's folder (e.g. "seed-0").
        public var folder: String
        /// The shots drawn for each class.
        public var shots: [String: [String]]

        public init(seed: UInt64, report: EvaluationReport, folder: String, shots: [String: [String]]) {
            self.seed = seed
            self.report = report
            self.folder = folder
            self.shots = shots
        }
    }

    /// Mean and sample standard deviation of one metric over the seeds where it is defined.
    public struct Statistic: Sendable, Equatable {
        public var mean: Double?
        public var std: Double?
        /// Seeds where the metric is defined.
        public var count: Int

        public init(_ values: [Double]) {
            count = values.count
            guard !values.isEmpty else { mean = nil; std = nil; return }
            let m = values.reduce(0, +) / Double(values.count)
            mean = m
            std = values.count < 2 ? nil
                : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        }
    }

    public static let deviation = "sample standard deviation over the seeds (divisor n - 1)"

    public var method: String
    public var settings: [(key: String, value: String)]
    public var runs: [Run]

    public init(method: String, settings: [(key: String, value: String)], runs: [Run]) {
        self.method = method
        self.settings = settings
        self.runs = runs
    }

    public var seeds: [UInt64] { runs.map(\.seed) }

    /// Classes in report order (those of the first run).
    public var classNames: [String] { runs.first?.report.classes.map(\.name) ?? [] }

    /// The class's result in each run that has it.
    func results(_ name: String) -> [ClassResult] { runs.compactMap { $0.report.classes.first { $0.name == name } } }

    /// Per metric (report order), over the seeds.
    public func statistics(forClass name: String) -> [(key: String, value: Statistic)] {
        Self.statistics(results(name).map(\.metrics))
    }

    /// Per metric, over the seeds, of each seed's mean over classes.
    public var overall: [(key: String, value: Statistic)] { Self.statistics(runs.map(\.report.mean)) }

    static func statistics(_ metrics: [ClassMetrics]) -> [(key: String, value: Statistic)] {
        ClassMetrics.keys.enumerated().map { i, key in (key, Statistic(metrics.compactMap { $0.fields[i].value })) }
    }

    /// Test images of a class (the same in every seed: the test split does not depend on the draw).
    public func images(forClass name: String) -> (images: Int, anomalous: Int) {
        guard let r = results(name).first else { return (0, 0) }
        return (r.images, r.anomalous)
    }
}
