import AnomalyCLIP
import CLIP
import Foundation
import Tensor

/// AnomalyCLIP inference (DPAM, one random image), optionally against AnomalyCLIP + shots in the same run, and the
/// training step on cached random features: what `clipad bench anomalyclip` prints. Random prompts; the feature
/// layer is the last block whatever the backbone's default, so the figure is one map's cost.
public struct AnomalyCLIPBenchmark: Sendable {
    public struct Shots: Sendable {
        public var count: Int
        public var layers: [Int]
        public var seconds: Double
        public var zeroShotSeconds: Double
        public var bankSeconds: Double
    }

    public struct Result: Sendable {
        public var configuration: AnomalyCLIPConfiguration
        public var inferenceSeconds: Double
        public var inferenceFLOPs: Double
        /// The c_fc product of one block (m, n, k), for the sgemm-rate comparison.
        public var mlpProduct: (m: Int, n: Int, k: Int)
        public var shots: Shots?
        public var trainStepSeconds: Double
    }

    public let imageSize: Int
    public let runs: Int
    public let trainBatch: Int
    /// AnomalyCLIP + shots with this many random shots (at least 2); nil: zero-shot only.
    public let shotCount: Int?
    /// Bank layers for `shotCount` (nil: `MethodDefaults.bankLayers`).
    public let bankLayers: [Int]?

    public init(imageSize: Int, runs: Int, trainBatch: Int, shotCount: Int? = nil, bankLayers: [Int]? = nil) throws {
        try BenchmarkSetting.check(imageSize, in: 16...VisionTransformer.maxImageSide, "image-size")
        try BenchmarkSetting.check(runs, in: 1...1000, "runs")
        try BenchmarkSetting.check(trainBatch, in: 1...1024, "batch-size")
        if let shotCount { try BenchmarkSetting.check(shotCount, in: 2...256, "shot-count") }
        self.imageSize = imageSize
        self.runs = runs
        self.trainBatch = trainBatch
        self.shotCount = shotCount
        self.bankLayers = bankLayers
    }

    public func run(model: CLIPModel, defaults: MethodDefaults = .shared) throws -> Result {
        var config = defaults.anomalyCLIPConfiguration(model: model)
        config.imageSize = imageSize
        config.featureLayers = [model.vision.layers]
        let prompts = PromptParameters.random(width: model.text.width, configuration: config, seed: 2)
        let tokenizer = try CLIPTokenizer.shared()
        let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: config, tokenizer: tokenizer)
        try model.vision.validate(imageShape: [1, 3, imageSize, imageSize])
        var rng = SeededGenerator(seed: 3)
        let image = Tensor.randomNormal([1, 3, imageSize, imageSize], std: 1, using: &rng)

        let inference = Benchmark.median(Benchmark.measure(runs: runs) { _ = detector.detect(image) })
        let g = imageSize / model.vision.patchSize
        let flops = EncoderFLOPs.dualPath(model.vision, imageSize: imageSize, dualBlocks: config.dpamBlocks, finalClassTokenOnly: true)
        let shots = try shotCount.map { try benchShots(detector: detector, image: image, count: $0, defaults: defaults, rng: &rng) }

        // Training step on cached features: text tower forward + backward for the 2 prompts, glocal loss, Adam.
        let e = model.vision.outputDim, n = g * g
        try MemoryBudget.check(elements: MemoryBudget.product([trainBatch, max(n * e, imageSize * imageSize)]), for: "a training batch of \(trainBatch)")
        let batch = GlocalLoss.Batch(
            global: Tensor.randomNormal([trainBatch, e], std: 1, using: &rng).l2Normalized(),
            patches: [config.featureLayers[0]: Tensor.randomNormal([trainBatch, n, e], std: 1, using: &rng).l2Normalized()],
            masks: Tensor(shape: [trainBatch, imageSize, imageSize], generator: { $0 % 7 == 0 ? 1 : 0 }),
            labels: (0..<trainBatch).map { $0 % 2 })
        let encoder = PromptTextEncoder(model: model, configuration: config, tokenizer: tokenizer)
        var parameters = prompts.namedTensors
        var adam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999)
        let step = Benchmark.median(try Benchmark.measure(runs: runs) {
            _ = try AnomalyCLIPTrainer.step(&parameters, batch: batch, encoder: encoder, optimiser: &adam)
        })
        return Result(configuration: config, inferenceSeconds: inference, inferenceFLOPs: flops,
                      mlpProduct: (g * g + 1, model.vision.blocks[0].fcWeight.outFeatures, model.vision.width),
                      shots: shots, trainStepSeconds: step)
    }

    /// Zero-shot and AnomalyCLIP + shots on the same image, interleaved run by run (so drift hits both alike).
    func benchShots(detector: AnomalyCLIPDetector, image: Tensor, count: Int, defaults: MethodDefaults,
                    rng: inout SeededGenerator) throws -> Shots {
        let layers = bankLayers ?? defaults.bankLayers(model: detector.model)
        let shots = (0..<count).map { _ in Tensor.randomNormal(image.shape, std: 1, using: &rng) }
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
        return Shots(count: count, layers: layers, seconds: Benchmark.median(combined), zeroShotSeconds: Benchmark.median(zero),
                     bankSeconds: bankSeconds)
    }
}
