import CLIP
import Foundation
import PromptAD
import Tensor

/// PromptAD fitting on k random shots, as `clipad fit` does it (each shot encoded on its own, then both prompt
/// learners), and prediction of one image: what `clipad bench promptad` prints.
public struct PromptADBenchmark: Sendable {
    public struct Result: Sendable {
        public var fitSeconds: Double
        public var encodeSeconds: Double
        /// Median seconds of one image's prediction.
        public var predictSeconds: Double
        /// The prediction's FLOPs: the V-V forward on all blocks, then each memory layer's patches against the bank.
        public var predictFLOPs: Double
        public var imageSize: Int
        /// The c_fc product of one block (m, n, k), for the sgemm-rate comparison.
        public var mlpProduct: (m: Int, n: Int, k: Int)
    }

    public let shots: Int
    public let epochs: Int
    public let mapSize: Int
    public let runs: Int

    public init(shots: Int, epochs: Int, mapSize: Int, runs: Int) throws {
        try BenchmarkSetting.check(shots, in: 1...256, "shot-count")
        try BenchmarkSetting.check(epochs, in: 0...100_000, "epochs")
        try BenchmarkSetting.check(mapSize, in: 1...Interpolation.maxSide, "map-size")
        try BenchmarkSetting.check(runs, in: 1...1000, "runs")
        self.shots = shots
        self.epochs = epochs
        self.mapSize = mapSize
        self.runs = runs
    }

    public func run(model: CLIPModel) throws -> Result {
        var config = PromptADConfiguration()
        config.epochs = epochs
        config.imageSize = model.vision.nativeImageSize
        let s = config.imageSize
        try model.vision.validate(imageShape: [shots, 3, s, s])
        var rng = SeededGenerator(seed: 3)
        let images = Tensor.randomNormal([shots, 3, s, s], std: 1, using: &rng)
        let fitter = try PromptADFitter(model: model, configuration: config, className: "bottle", tokenizer: try CLIPTokenizer.shared())

        let start = Date()
        let features = PromptADImageFeatures.concatenate(try (0..<shots).map {
            try PromptADImageFeatures.compute(images.slice(rows: $0..<($0 + 1)), model: model, configuration: config)
        })
        let encoded = Date()
        let fitted = try fitter.fit(shotFeatures: features, shots: [], clipPath: "")
        let fitSeconds = Date().timeIntervalSince(start), encodeSeconds = encoded.timeIntervalSince(start)

        let detector = try PromptADDetector(model: model, fitted: fitted)
        let one = images.slice(rows: 0..<1)
        let predict = Benchmark.median(try Benchmark.measure(runs: runs) { _ = try detector.detect(one, mapSize: mapSize) })
        let g = s / model.vision.patchSize, patches = Double(g * g), w = Double(model.vision.width)
        let flops = EncoderFLOPs.dualPath(model.vision, imageSize: s, dualBlocks: model.vision.layers, finalClassTokenOnly: true)
            + Double(config.memoryLayers.count) * 2 * patches * Double(shots) * patches * w
        return Result(fitSeconds: fitSeconds, encodeSeconds: encodeSeconds, predictSeconds: predict, predictFLOPs: flops,
                      imageSize: s, mlpProduct: (g * g + 1, model.vision.blocks[0].fcWeight.outFeatures, model.vision.width))
    }
}
