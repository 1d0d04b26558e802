import ArgumentParser
import CLIP
import Detection
import Foundation
import Tensor

/// `clipad bench promptad`: fitting on k shots (s) and prediction (s/image) with random weights of the real
/// architecture (ViT-B-16-plus-240 by default); the measuring is `PromptADBenchmark`'s.
struct BenchPromptAD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promptad", abstract: "PromptAD fit on k shots (s) and predict (s/image).")

    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Bundled architecture with random weights when no --clip is given.") var arch: String = "ViT-B-16-plus-240"
    @Option(name: .customLong("shot-count"), help: "Normal images to fit on.") var shotCount: Int = 4
    @Option(name: .customLong("shots"), help: .hidden) var legacyShots: Int?   // the old spelling (a count here), kept for one release
    var shots: Int { legacyShots ?? shotCount }
    @Option(help: "Epochs per task (official 100).") var epochs: Int = 100
    @Option(name: .customLong("map-size"), help: "Map side for predict.") var mapSize: Int = 240
    @Option(help: "Timed predict repetitions (after one warm-up).") var runs: Int = 5

    func run() throws {
        let bench: PromptADBenchmark
        do { bench = try PromptADBenchmark(shots: shots, epochs: epochs, mapSize: mapSize, runs: runs) } catch { throw ValidationError("\(error)") }
        let model = clipOptions.clip == nil
            ? try CLIPModel.random(CLIPArchitecture.bundled(arch), seed: 1, activation: clipOptions.activation ?? .gelu)
            : try clipOptions.loadModel(for: .promptad)
        let r = try bench.run(model: model)
        let name = clipOptions.clip ?? arch
        print(String(format: "promptad fit %@ (%d shots, %d epochs x 2 tasks, bottle: 11 states): %.2f s (encoding shots %.2f s, prompt learning %.2f s = %.3f s/epoch)",
                     name, shots, epochs, r.fitSeconds, r.encodeSeconds, r.fitSeconds - r.encodeSeconds,
                     (r.fitSeconds - r.encodeSeconds) / Double(max(2 * epochs, 1))))
        print(String(format: "promptad predict %@ @%d, map %d: median %.3f s/image  %.1f GFLOP/s  peak memory %.0f MiB  (%d runs, BLAS threads %d)",
                     name, r.imageSize, mapSize, r.predictSeconds, r.predictFLOPs / r.predictSeconds / 1e9, PeakMemory.mebibytes, runs, BLAS.threads))
        print("  " + SGEMMRate.comparison(flops: r.predictFLOPs, seconds: r.predictSeconds, m: r.mlpProduct.m, n: r.mlpProduct.n, k: r.mlpProduct.k))
        KernelSelection.reportLines.forEach { print("  " + $0) }
    }
}
