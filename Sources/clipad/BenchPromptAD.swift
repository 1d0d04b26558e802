import ArgumentParser
import CLIP
import Foundation
import PromptAD
import Tensor

/// `clipad bench promptad`: fitting on k shots (s) and prediction (s/image) with random weights of the real
/// architecture (ViT-B-16-plus-240 by default).
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
        let model = clipOptions.clip == nil
            ? try CLIPModel.random(CLIPArchitecture.bundled(arch), seed: 1, activation: clipOptions.activation ?? .gelu)
            : try clipOptions.loadModel(for: .promptad)
        var config = PromptADConfiguration()
        config.epochs = epochs
        config.imageSize = model.vision.nativeImageSize
        let s = config.imageSize
        var rng = SeededGenerator(seed: 3)
        let images = Tensor.randomNormal([shots, 3, s, s], std: 1, using: &rng)
        let fitter = try PromptADFitter(model: model, configuration: config, className: "bottle", tokenizer: try CLIPTokenizer.shared())

        // Fit as `clipad fit` does it: each shot encoded on its own, then both prompt learners.
        let start = Date()
        let features = PromptADImageFeatures.concatenate(try (0..<shots).map {
            try PromptADImageFeatures.compute(images.slice(rows: $0..<($0 + 1)), model: model, configuration: config)
        })
        let encoded = Date()
        let fitted = try fitter.fit(shotFeatures: features, shots: [], clipPath: "")
        let fitSeconds = Date().timeIntervalSince(start), encodeSeconds = encoded.timeIntervalSince(start)
        print(String(format: "promptad fit %@ (%d shots, %d epochs x 2 tasks, bottle: 11 states): %.2f s (encoding shots %.2f s, prompt learning %.2f s = %.3f s/epoch)",
                     clipOptions.clip ?? arch, shots, epochs, fitSeconds, encodeSeconds, fitSeconds - encodeSeconds,
                     (fitSeconds - encodeSeconds) / Double(max(2 * epochs, 1))))

        let detector = try PromptADDetector(model: model, fitted: fitted)
        let one = images.slice(rows: 0..<1)
        let predict = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try detector.detect(one, mapSize: mapSize) })
        // The V-V forward on all blocks, then each memory layer's patch tokens against the shots' bank.
        let g = s / model.vision.patchSize, patches = Double(g * g), w = Double(model.vision.width)
        let flops = EncoderFLOPs.dualPath(model.vision, imageSize: s, dualBlocks: model.vision.layers, finalClassTokenOnly: true)
            + Double(config.memoryLayers.count) * 2 * patches * Double(shots) * patches * w
        print(String(format: "promptad predict %@ @%d, map %d: median %.3f s/image  %.1f GFLOP/s  peak memory %.0f MiB  (%d runs, BLAS threads %d)",
                     clipOptions.clip ?? arch, s, mapSize, predict, flops / predict / 1e9, PeakMemory.mebibytes, runs, BLAS.threads))
        print("  " + SGEMMRate.comparison(flops: flops, seconds: predict, m: g * g + 1,
                                          n: model.vision.blocks[0].fcWeight.shape[0], k: model.vision.width))
        print("  " + KernelSelection.summary)
    }
}
