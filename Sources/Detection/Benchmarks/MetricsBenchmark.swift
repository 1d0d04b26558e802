import CLIP
import Evaluation
import Tensor

/// Pixel metrics over a full-class-sized set of synthetic maps (the evaluation's hot path): two thirds of the maps
/// hold a 80 x 60 anomalous box whose scores are raised by 0.3, the rest are normal.
public struct MetricsBenchmark: Sendable {
    public struct Result: Sendable {
        /// Pixel AUROC + AP + F1-max + AUPRO (MVTec's definition), median seconds.
        public var allMetricsSeconds: Double
        /// AnomalyCLIP's PRO definition alone, median seconds.
        public var anomalyCLIPProSeconds: Double
        public var pixels: Int
    }

    public let maps: Int
    public let side: Int
    public let runs: Int

    /// The box (80 x 60) sits at least 50 pixels from each edge.
    public static let sideRange = 130...4096

    public init(maps: Int, side: Int, runs: Int) throws {
        try BenchmarkSetting.check(maps, in: 1...100_000, "maps")
        try BenchmarkSetting.check(side, in: Self.sideRange, "map-size")
        try BenchmarkSetting.check(runs, in: 1...1000, "runs")
        // Scores (4 bytes) and masks (1 byte) of every map live at once.
        try MemoryBudget.check(elements: MemoryBudget.product([maps, side, side]), of: 5, for: "\(maps) maps of \(side)x\(side)")
        self.maps = maps
        self.side = side
        self.runs = runs
    }

    public func run() throws -> Result {
        var rng = SeededGenerator(seed: 1)
        var samples: [PixelSample] = []
        for k in 0..<maps {
            var mask: [UInt8]? = nil
            if k % 3 != 0 {
                var m = [UInt8](repeating: 0, count: side * side)
                let cy = Int(rng.nextUniform() * Float(side - 100)) + 50, cx = Int(rng.nextUniform() * Float(side - 100)) + 50
                for y in (cy - 30)..<(cy + 30) { for x in (cx - 40)..<(cx + 40) { m[y * side + x] = 1 } }
                mask = m
            }
            let scores = (0..<(side * side)).map { i in rng.nextUniform() * 0.7 + (mask?[i] == 1 ? 0.3 : 0) }
            samples.append(try PixelSample(width: side, height: side, scores: scores, mask: mask))
        }
        let all = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try PixelMetrics.compute(samples, proMode: .mvtec) })
        let pro = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try AUPRO.anomalyCLIP(samples) })
        return Result(allMetricsSeconds: all, anomalyCLIPProSeconds: pro, pixels: maps * side * side)
    }
}
