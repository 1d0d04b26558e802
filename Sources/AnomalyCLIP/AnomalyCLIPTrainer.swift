import CLIP
import Checkpoint
import Foundation
import ImageIO
import Tensor

/// Trains AnomalyCLIP's prompts on an auxiliary labelled dataset (official `train.py` recipe): the image tower is
/// frozen and its features cached; each step runs the text tower forward + backward and the glocal loss; Adam.
public final class AnomalyCLIPTrainer {
    public struct Options: Sendable {
        public var epochs = 15
        public var batchSize = 8
        public var learningRate: Float = 1e-3
        public var betas: (Float, Float) = (0.5, 0.999)
        public var seed: UInt64 = 111
        public init() {}
    }

    /// One image of the auxiliary dataset; `maskPath` nil means anomaly-free (all-zero mask).
    public struct Example: Sendable {
        public var imagePath: String
        public var maskPath: String?
        public var label: Bool
        public init(imagePath: String, maskPath: String?, label: Bool) {
            self.imagePath = imagePath; self.maskPath = maskPath; self.label = label
        }
    }

    public enum Event {
        case caching(done: Int, total: Int)
        case step(epoch: Int, step: Int, steps: Int, loss: Float)
        case epochFinished(epoch: Int, meanLoss: Float, checkpoint: String)
        case skipped(path: String, error: Error)
    }

    public let model: CLIPModel
    public let configuration: AnomalyCLIPConfiguration
    public let options: Options
    public let cache: FeatureCache
    let tokenizer: CLIPTokenizer

    public init(model: CLIPModel, configuration: AnomalyCLIPConfiguration, options: Options, cacheDirectory: String,
                tokenizer: CLIPTokenizer, cacheStorage: DType = .float16) throws {
        try configuration.validate(for: model, tokenizer: tokenizer)
        guard options.batchSize >= 1, options.epochs >= 0 else {
            throw AnomalyCLIPError.badConfiguration("batch size \(options.batchSize) and epochs \(options.epochs) must be at least 1 and 0")
        }
        self.model = model
        self.configuration = configuration
        self.options = options
        self.tokenizer = tokenizer
        let layers = configuration.featureLayers.map(String.init).joined(separator: ",")
        var cache = try FeatureCache(directory: cacheDirectory,
                                     key: "\(model.source)|\(model.activation.rawValue)|\(configuration.imageSize)|\(layers)|\(configuration.dpamBlocks)",
                                     storage: cacheStorage)
        let grid = configuration.imageSize / model.vision.patchSize
        cache.expectedShapes = .init(embedding: model.vision.outputDim, patchTokens: grid * grid,
                                     layers: configuration.featureLayers, maskSide: configuration.imageSize)
        self.cache = cache
    }

    // MARK: - Feature caching

    /// Image [3, S, S] (square bicubic resize) and mask [S, S] (binarised, Pillow bilinear resize, > 0.5), as the official loaders.
    func load(_ example: Example) throws -> (Tensor, Tensor) {
        let s = configuration.imageSize
        let image = ImagePreprocessor(size: s, resize: .square).tensor(from: try ImageDecoder.decodeRGB(path: example.imagePath))
        guard let maskPath = example.maskPath else { return (image, Tensor(zeros: [s, s])) }
        // Binarise first (any nonzero pixel is a defect), then resize, as the official dataset code does.
        var gray = try ImageDecoder.decodeGray(path: maskPath)
        gray.pixels = gray.pixels.map { $0 > 0 ? 255 : 0 }
        let mask = PillowResize.resize(gray, width: s, height: s, filter: .bilinear)
        return (image, Tensor(shape: [s, s], scalars: mask.pixels.map { Float($0) / 255 > 0.5 ? 1 : 0 }))
    }

    /// Computes and stores the features of every example not yet cached; returns the examples that are usable.
    public func cacheFeatures(_ examples: [Example], detector: AnomalyCLIPDetector, progress: (Event) -> Void) -> [Example] {
        var usable: [Example] = []
        for (i, example) in examples.enumerated() {
            do {
                if try cache.load(imagePath: example.imagePath) == nil {
                    let (image, mask) = try load(example)
                    let s = configuration.imageSize
                    let f = detector.features(image.reshaped([1, 3, s, s]))
                    var patches: [Int: Tensor] = [:]
                    for (layer, t) in f.patches { patches[layer] = t[0] }
                    try cache.store(.init(global: f.global[0], patches: patches, mask: mask), imagePath: example.imagePath)
                }
                usable.append(example)
            } catch {
                progress(.skipped(path: example.imagePath, error: error))
            }
            progress(.caching(done: i + 1, total: examples.count))
        }
        return usable
    }

    // MARK: - Training

    /// Trains from `initial` (or resumes from `checkpointPath` when `resume` and it exists), writing the checkpoint
    /// atomically after every epoch. Returns the final prompts.
    public func train(_ examples: [Example], initial: PromptParameters, checkpointPath: String, resume: Bool,
                      progress: (Event) -> Void) throws -> PromptParameters {
        let detector = try AnomalyCLIPDetector(model: model, prompts: initial, configuration: configuration, tokenizer: tokenizer)
        let usable = cacheFeatures(examples, detector: detector, progress: progress)
        guard !usable.isEmpty else { throw AnomalyCLIPError.badConfiguration("no usable training images") }
        let encoder = PromptTextEncoder(model: model, configuration: configuration, tokenizer: tokenizer)

        var parameters = initial.namedTensors
        var adam = Adam(learningRate: options.learningRate, beta1: options.betas.0, beta2: options.betas.1)
        var startEpoch = 0
        if resume, FileManager.default.fileExists(atPath: checkpointPath) {
            let checkpoint = try Checkpoint.load(path: checkpointPath)
            let resumed = try PromptParameters.load(checkpoint: checkpoint).0.namedTensors
            // The resumed prompts and moments must be the ones being trained: same names, same shapes.
            for (name, t) in parameters where resumed[name]?.shape != t.shape {
                throw AnomalyCLIPError.badPromptFile(file: checkpointPath, reason: "tensor '\(name)' has shape \(resumed[name]?.shape ?? []), expected \(t.shape) (trained with other settings?)")
            }
            parameters = resumed
            var moments: [String: Tensor] = [:]
            for name in checkpoint.names where name.hasPrefix("adam.") {
                let t = try checkpoint.tensor(name)
                let key = String(name.dropFirst(5))
                for suffix in [".m", ".v"] where key.hasSuffix(suffix) {
                    let parameter = String(key.dropLast(suffix.count))
                    guard parameters[parameter]?.shape == t.shape else {
                        throw AnomalyCLIPError.badPromptFile(file: checkpointPath, reason: "tensor '\(name)' has shape \(t.shape), expected \(parameters[parameter]?.shape ?? []) (the shape of '\(parameter)')")
                    }
                }
                if key.hasSuffix(".step"), t.count != 1 || !t[flat: 0].isFinite || t[flat: 0] < 0 {
                    throw AnomalyCLIPError.badPromptFile(file: checkpointPath, reason: "tensor '\(name)' must be one finite step count >= 0")
                }
                moments[key] = t
            }
            adam.importState(moments)
            startEpoch = min(max(Int(checkpoint.metadata["epoch"] ?? "0") ?? 0, 0), options.epochs)
        }

        let steps = (usable.count + options.batchSize - 1) / options.batchSize
        for epoch in startEpoch..<options.epochs {
            var order = Array(usable.indices)
            var rng = SeededGenerator(seed: options.seed &+ UInt64(epoch))
            order.shuffle(using: &rng)
            var lossSum: Float = 0
            for step in 0..<steps {
                let indices = order[(step * options.batchSize)..<min((step + 1) * options.batchSize, order.count)]
                let batch = try makeBatch(indices.map { usable[$0] })
                let loss = try Self.step(&parameters, batch: batch, encoder: encoder, optimiser: &adam)
                lossSum += loss
                progress(.step(epoch: epoch + 1, step: step + 1, steps: steps, loss: loss))
            }
            var adamTensors: [String: Tensor] = [:]
            for (k, v) in adam.exportState() { adamTensors["adam.\(k)"] = v }
            try PromptParameters(namedTensors: parameters).save(
                path: checkpointPath, configuration: configuration,
                extraMetadata: ["epoch": "\(epoch + 1)", "backbone": model.source, "activation": model.activation.rawValue,
                                "mean_loss": "\(lossSum / Float(steps))", "training_images": "\(usable.count)"],
                extraTensors: adamTensors)
            progress(.epochFinished(epoch: epoch + 1, meanLoss: lossSum / Float(steps), checkpoint: checkpointPath))
        }
        return PromptParameters(namedTensors: parameters)
    }

    /// Stacks cached entries into one loss batch.
    /// One training step: the text tower forward and backward for the two prompts, the glocal loss on a batch of
    /// cached image features, one Adam update of `parameters`. Returns the loss before the update.
    public static func step(_ parameters: inout [String: Tensor], batch: GlocalLoss.Batch, encoder: PromptTextEncoder,
                            optimiser adam: inout Adam) throws -> Float {
        let tape = Tape()
        let variables = PromptTextEncoder.Variables(PromptParameters(namedTensors: parameters), tape: tape)
        let terms = GlocalLoss()(textFeatures: encoder.textFeatures(variables), batch: batch)
        adam.step(&parameters, gradients: try tape.backward(terms.total).named(variables.named))
        return terms.total.value[flat: 0]
    }

    func makeBatch(_ examples: [Example]) throws -> GlocalLoss.Batch {
        let entries = try examples.map { e -> FeatureCache.Entry in
            guard let entry = try cache.load(imagePath: e.imagePath) else {
                throw AnomalyCLIPError.badConfiguration("\(e.imagePath): features missing from the cache")
            }
            return entry
        }
        let b = entries.count
        let global = Tensor.concatenate(entries.map { $0.global.reshaped([1, -1]) })
        var patches: [Int: Tensor] = [:]
        for layer in configuration.featureLayers {
            let rows = try zip(examples, entries).map { example, entry -> Tensor in
                guard let t = entry.patches[layer] else {
                    throw AnomalyCLIPError.badConfiguration("\(cache.file(for: example.imagePath)): cached features lack layer \(layer); delete the cache folder")
                }
                return t
            }
            patches[layer] = Tensor.concatenate(rows).reshaped([b] + rows[0].shape)
        }
        let masks = Tensor.concatenate(entries.map { $0.mask.reshaped([1] + $0.mask.shape) })
        return GlocalLoss.Batch(global: global, patches: patches, masks: masks, labels: examples.map { $0.label ? 1 : 0 })
    }
}
