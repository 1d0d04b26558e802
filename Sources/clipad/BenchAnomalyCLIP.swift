import AnomalyCLIP
import ArgumentParser
import CLIP
import Detection
import Foundation
import Tensor

/// `clipad bench anomalyclip`: inference s/image with DPAM and the training step time on cached features.
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
        let model = clipOptions.clip == nil
            ? try CLIPModel.random(CLIPArchitecture.bundled(arch), seed: 1, activation: clipOptions.activation ?? .quickGELU)
            : try clipOptions.loadModel(for: .anomalyclip)
        var config = MethodDefaults.shared.anomalyCLIPConfiguration(model: model)
        config.imageSize = imageSize
        config.featureLayers = [model.vision.layers]   // the last layer, whatever the backbone's default
        let prompts = PromptParameters.random(width: model.text.width, configuration: config, seed: 2)
        let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: config, tokenizer: try CLIPTokenizer.shared())
        var rng = SeededGenerator(seed: 3)
        try model.vision.validate(imageShape: [1, 3, imageSize, imageSize])
        try model.vision.checkMemory(batch: 1, height: imageSize, width: imageSize)
        let image = Tensor.randomNormal([1, 3, imageSize, imageSize], std: 1, using: &rng)

        let inference = Benchmark.median(Benchmark.measure(runs: runs) { _ = detector.detect(image) })
        let g = imageSize / model.vision.patchSize, t = g * g + 1
        let blocks = model.vision.blocks
        let flops = EncoderFLOPs.dualPath(model.vision, imageSize: imageSize, dualBlocks: config.dpamBlocks,
                                          finalClassTokenOnly: true)
        print(String(format: "anomalyclip inference %@ @%d (DPAM %d blocks, layers %@): median %.3f s/image  %.1f GFLOP/s  (%d runs, %d blocks)",
                     clipOptions.clip ?? arch, imageSize, config.dpamBlocks, config.featureLayers.description, inference,
                     flops / inference / 1e9, runs, blocks.count))
        print("  " + SGEMMRate.comparison(flops: flops, seconds: inference, m: t, n: blocks[0].fcWeight.shape[0],
                                          k: model.vision.width))
        print("  " + KernelSelection.summary)
        if let k = shotCount { try benchShots(detector: detector, image: image, shots: k, rng: &rng) }

        // Training step on cached features: text tower forward + backward for the 2 prompts, glocal loss, Adam.
        let e = model.vision.outputDim, n = g * g
        let batch = GlocalLoss.Batch(
            global: Tensor.randomNormal([trainBatch, e], std: 1, using: &rng).l2Normalized(),
            patches: [config.featureLayers[0]: Tensor.randomNormal([trainBatch, n, e], std: 1, using: &rng).l2Normalized()],
            masks: Tensor(shape: [trainBatch, imageSize, imageSize], generator: { $0 % 7 == 0 ? 1 : 0 }),
            labels: (0..<trainBatch).map { $0 % 2 })
        let encoder = PromptTextEncoder(model: model, configuration: config, tokenizer: try CLIPTokenizer.shared())
        var parameters = prompts.namedTensors
        var adam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999)
        let step = Benchmark.median(try Benchmark.measure(runs: runs) {
            _ = try AnomalyCLIPTrainer.step(&parameters, batch: batch, encoder: encoder, optimiser: &adam)
        })
        print(String(format: "anomalyclip training step (batch %d, cached features, %d px masks): median %.3f s/step  peak memory %.0f MiB",
                     trainBatch, imageSize, step, PeakMemory.mebibytes))
    }

    /// Zero-shot and AnomalyCLIP + shots on the same image, interleaved run by run (so drift hits both alike).
    func benchShots(detector: AnomalyCLIPDetector, image: Tensor, shots k: Int, rng: inout SeededGenerator) throws {
        let layers = bankLayers.flatMap(MethodOptions.parseLayers) ?? MethodDefaults.shared.bankLayers(model: detector.model)
        let shots = (0..<k).map { _ in Tensor.randomNormal(image.shape, std: 1, using: &rng) }
        let bankStart = DispatchTime.now().uptimeNanoseconds
        let bank = try detector.shotBank(shots: shots, layers: layers)
        let bankSeconds = Double(DispatchTime.now().uptimeNanoseconds - bankStart) / 1e9
        _ = detector.detect(image)
        _ = detector.detect(image, shots: bank)
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var zero: [Double] = [], combined: [Double] = []
        for _ in 0..<runs {
            zero.append(seconds { _ = detector.detect(image) })
            combined.append(seconds { _ = detector.detect(image, shots: bank) })
        }
        let z = Benchmark.median(zero), c = Benchmark.median(combined)
        print(String(format: "anomalyclip + %d shots (bank layers %@): median %.3f s/image vs zero-shot %.3f s/image = %.3fx  (bank built in %.2f s; %d interleaved runs)",
                     k, layers.map(String.init).joined(separator: ","), c, z, c / z, bankSeconds, runs))
    }
}
