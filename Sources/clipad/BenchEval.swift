import ArgumentParser
import CLIP
import Detection
import Evaluation
import Foundation

/// `clipad bench eval`: the evaluation pipeline around a model on real images (`EvaluationPipelineBenchmark`).
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluation pipeline on real images: decode -> resize -> maps -> Gaussian -> metrics (images/s).")

    @Option(help: "Dataset root.") var data: String = "../shared/data/magnetic-tile"
    @Option(help: "Layout (see `clipad eval`).") var dataset: String = "magnetic-tile"
    @Option(name: .customLong("image-size"), help: "Map and input side.") var imageSize: Int = 240
    @Option(name: .customLong("side"), help: .hidden) var legacySide: Int?   // the old spelling, kept for one release
    var side: Int { legacySide ?? imageSize }
    @Option(help: "Patch grid side of the map before upsampling.") var grid: Int = 15
    @Option(help: "Use N test images spread evenly over the sorted list (default: all).") var images: Int?
    @Option(help: "Timed repetitions (after one warm-up).") var runs: Int = 3

    func run() throws {
        let bench: EvaluationPipelineBenchmark
        do {
            bench = try EvaluationPipelineBenchmark(layout: try DatasetLayout(name: dataset), root: data, images: images,
                                                    side: side, grid: grid, runs: runs)
        } catch let error as DetectionError { throw ValidationError("\(error)") }
        let r = try bench.run()
        print(String(format: "eval pipeline %@ (%d test images, %dx%d maps): median %.2f s  %.1f images/s  peak memory %.0f MiB  (%d runs)",
                     data, r.images, side, side, r.seconds, Double(r.images) / r.seconds, PeakMemory.mebibytes, runs))
        for (name, seconds) in r.stages.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %-58@ %.2f s (last run)", name as NSString, seconds))
        }
        print(String(format: "  image AUROC %.4f | pixel AUROC %.4f  AP %.4f  AUPRO %.4f (model-free map: a pipeline check, not a method)",
                     r.image.auroc, r.pixel.auroc, r.pixel.averagePrecision, r.pixel.aupro ?? .nan))
    }
}
