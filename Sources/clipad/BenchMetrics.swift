import ArgumentParser
import Detection
import Foundation

/// `clipad bench metrics`: pixel metrics over a full-class-sized set of maps (the evaluation's hot path).
struct BenchMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Pixel AUROC/AP/F1-max + AUPRO over synthetic maps the size of an MVTec class.")
    @Option(help: "Number of maps.") var maps: Int = 200
    @Option(name: .customLong("map-size"), help: "Map side in pixels.") var mapSize: Int = 518
    @Option(name: .customLong("side"), help: .hidden) var legacySide: Int?   // the old spelling, kept for one release
    var side: Int { legacySide ?? mapSize }
    @Option(help: "Timed repetitions.") var runs: Int = 3

    func run() throws {
        let bench: MetricsBenchmark
        do { bench = try MetricsBenchmark(maps: maps, side: side, runs: runs) } catch { throw ValidationError("\(error)") }
        let r = try bench.run()
        print(String(format: "metrics over %d maps of %dx%d (%.1fM pixels): pixel AUROC+AP+F1-max+AUPRO median %.2f s; AnomalyCLIP-mode PRO %.2f s",
                     maps, side, side, Double(r.pixels) / 1e6, r.allMetricsSeconds, r.anomalyCLIPProSeconds))
    }
}
