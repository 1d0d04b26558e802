import ArgumentParser
import CLIP
import Evaluation
import Foundation
import Tensor

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
        let mvtec = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try PixelMetrics.compute(samples, proMode: .mvtec) })
        let anomalyCLIP = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try AUPRO.anomalyCLIP(samples) })
        print(String(format: "metrics over %d maps of %dx%d (%.1fM pixels): pixel AUROC+AP+F1-max+AUPRO median %.2f s; AnomalyCLIP-mode PRO %.2f s",
                     maps, side, side, Double(maps * side * side) / 1e6, mvtec, anomalyCLIP))
    }
}
