import ArgumentParser
import CLIP
import Detection
import Foundation
import Tensor

/// `clipad bench anomalyclip`: inference s/image with DPAM and the training step time on cached features; the
/// measuring is `AnomalyCLIPBenchmark`'s.
struct BenchAnomalyCLIP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalyclip", abstract: "AnomalyCLIP inference s/image (DPAM) and training s/step on cached features.")

    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Bundled architecture with random weights when no --clip is given.") var arch: String = "ViT-L-14-336"
    @Option(name: .customLong("image-size"), help: "Square input side.") var imageSize: Int = 518
    @Option(help: "Timed repetitions (after one warm-up).") var runs: Int = 3
    @Option(name: .customLong("batch-size"), help: "Images per training step.") var batchSize: Int = 8
    @Option(name: .customLong("train-batch"), help: .hidden) var legacyTrainBatch: Int?   // the old spelling, kept for one release
    var trainBatch: Int { legacyTrainBatch ?? batchSize }
    @Option(name: .customLong("shot-count"), help: "Also time AnomalyCLIP + shots with a bank of this many random shots, against zero-shot in the same run (per-image ratio).")
    var shotCount: Int?
    @Option(name: .customLong("bank-layers"), help: "Bank layers for --shot-count (default per backbone: 6,12,18,24 for 24 blocks; other depths: quarters).")
    var bankLayers: String?

    func validate() throws {
        if let k = shotCount, k < 2 { throw ValidationError("--shot-count must be at least 2 (the score uses leave-one-out statistics), got \(k)") }
        if let l = bankLayers, MethodOptions.parseLayers(l) == nil {
            throw ValidationError("--bank-layers must be comma-separated positive integers, got '\(l)'")
        }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let bench: AnomalyCLIPBenchmark
        do {
            bench = try AnomalyCLIPBenchmark(imageSize: imageSize, runs: runs, trainBatch: trainBatch, shotCount: shotCount,
                                             bankLayers: bankLayers.flatMap(MethodOptions.parseLayers))
        } catch { throw ValidationError("\(error)") }
        let model = clipOptions.clip == nil
            ? try CLIPModel.random(CLIPArchitecture.bundled(arch), seed: 1, activation: clipOptions.activation ?? .quickGELU)
            : try clipOptions.loadModel(for: .anomalyclip)
        let r = try bench.run(model: model)
        let c = r.configuration
        print(String(format: "anomalyclip inference %@ @%d (DPAM %d blocks, layers %@): median %.3f s/image  %.1f GFLOP/s  (%d runs, %d blocks)",
                     clipOptions.clip ?? arch, imageSize, c.dpamBlocks, c.featureLayers.description, r.inferenceSeconds,
                     r.inferenceFLOPs / r.inferenceSeconds / 1e9, runs, model.vision.layers))
        print("  " + SGEMMRate.comparison(flops: r.inferenceFLOPs, seconds: r.inferenceSeconds, m: r.mlpProduct.m, n: r.mlpProduct.n, k: r.mlpProduct.k))
        KernelSelection.reportLines.forEach { print("  " + $0) }
        if let s = r.shots {
            print(String(format: "anomalyclip + %d shots (bank layers %@): median %.3f s/image vs zero-shot %.3f s/image = %.3fx  (bank built in %.2f s; %d interleaved runs)",
                         s.count, s.layers.map(String.init).joined(separator: ","), s.seconds, s.zeroShotSeconds, s.seconds / s.zeroShotSeconds,
                         s.bankSeconds, runs))
        }
        print(String(format: "anomalyclip training step (batch %d, cached features, %d px masks): median %.3f s/step  peak memory %.0f MiB",
                     trainBatch, imageSize, r.trainStepSeconds, PeakMemory.mebibytes))
    }
}
