import CLIP
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor

/// Few-shot fitting as one library call, shared by `clipad fit` and the seeded protocol of `clipad eval`: a spec
/// (method, CLIP checkpoint, class name, ...) plus the chosen shot images and a seed give a ready detector in memory.
/// PromptAD learns its prompts and memory bank from the shots; WinCLIP+ takes them as its references and AnomalyCLIP
/// builds its shot bank from them (nothing to learn). Adding a method means one `case` in `fit` returning its detector built from `spec` + shots.
public enum ShotFitting {
    /// PromptAD's fitting settings; the defaults are `PromptADConfiguration`'s (written there once).
    public struct PromptADOptions: Sendable {
        /// Epochs, memory feature, score scale, ...; `seed` and `imageSize` are set by `fit` (the request's seed, the
        /// spec's image size or else the backbone's native size).
        public var configuration = PromptADConfiguration()
        /// torch.save'd official PromptLearner state dicts (n_pro 3 -> classification, 1 -> segmentation).
        public var promptInit: [String] = []
        /// Held-out normal images: keep each task's epoch with the lowest loss on them.
        public var validation: [String] = []

        public init() {}
    }

    public struct Request: Sendable {
        /// Method, CLIP checkpoint, activation, class name, image size / map size.
        public var spec: DetectorSpec
        /// The shot images (already chosen: `ShotSelection.choose`).
        public var shots: [String]
        /// Seeds whatever is random in the fitting (PromptAD's prompt initialisation).
        public var seed: UInt64
        public var promptAD = PromptADOptions()

        public init(spec: DetectorSpec, shots: [String], seed: UInt64) {
            self.spec = spec
            self.shots = shots
            self.seed = seed
        }
    }

    /// What the fitting reports while it runs.
    public enum Event {
        /// `done` of `total` images of a kind ("shot", "validation image") encoded.
        case encoded(label: String, done: Int, total: Int)
        /// PromptAD: one epoch of a task, with the loss measured before its step.
        case epoch(task: String, epoch: Int, of: Int, loss: Float)
    }

    /// A fitted detector and what the fitting learned.
    public struct Fitted {
        public let detector: any Detector
        public let shots: [String]
        /// PromptAD's fitted model (losses, the epochs kept); nil for methods with nothing to learn.
        public let promptAD: PromptADModel?
        public let seconds: Double

        /// Writes the model file (PromptAD); a method without one (WinCLIP+: the shots are its model) is an error.
        public func save(to path: String) throws {
            guard let promptAD else {
                throw DetectionError.badSetting(setting: "output", reason: "--method \(detector.spec.method.rawValue) has no model file to write (pass its --shots to predict/eval)")
            }
            var meta = ["fit_seconds": String(format: "%.2f", seconds), "shot_count": "\(shots.count)"]
            if let phrases = detector.spec.phrases { meta[DefectPhrases.metadataKey] = JSONFile.encode(phrases) }
            try promptAD.save(path: path, extraMetadata: meta)
        }
    }

    /// Fits `request.spec.method` to the shots. Thresholds are never set (a fitted detector is uncalibrated).
    public static func fit(_ request: Request, options: DetectorFactory.Options = .init(),
                           events: @escaping (Event) -> Void = { _ in }) throws -> Fitted {
        guard !request.shots.isEmpty else {
            throw DetectionError.missingSetting(setting: "shots", method: request.spec.method.rawValue, why: "few-shot fitting needs at least one normal image")
        }
        let start = Date()
        var options = options
        options.ignoreThresholds = true
        switch request.spec.method {
        case .promptad:
            let (detector, fitted) = try fitPromptAD(request, options, events)
            return Fitted(detector: detector, shots: request.shots, promptAD: fitted, seconds: Date().timeIntervalSince(start))
        case .winclip, .anomalyclip:
            // WinCLIP+ keeps the shots as references; AnomalyCLIP encodes them into its bank when the detector is built.
            var spec = request.spec
            spec.shots = request.shots
            let detector = try DetectorFactory.make(spec, options: options).detector
            return Fitted(detector: detector, shots: request.shots, promptAD: nil, seconds: Date().timeIntervalSince(start))
        }
    }

    // MARK: - PromptAD

    static func fitPromptAD(_ request: Request, _ options: DetectorFactory.Options,
                            _ events: @escaping (Event) -> Void) throws -> (PromptADDetection, PromptADModel) {
        let spec = request.spec
        let clipPath = try DetectorFactory.require(spec.clip, .clip, .promptad, "the backbone PromptAD is fitted on")
        let className = try DetectorFactory.require(spec.className, .className, .promptad, "the product name written into the prompts")
        let model = try options.loader.load(
            path: clipPath, requested: try DetectorFactory.activation(spec.activation, setting: "activation"), recorded: nil,
            fallback: options.defaults.activation(.promptad), notice: options.notice).model
        let o = request.promptAD
        var config = o.configuration
        config.seed = request.seed
        config.imageSize = spec.imageSize ?? model.vision.nativeImageSize
        // The user's defect words (`spec.phrases`, one rule for every method: `DefectPhrases`) join the official states.
        let fitter = try PromptADFitter(model: model, configuration: config, className: className,
                                        extraStates: try (spec.phrases ?? []).map(DefectPhrases.template),
                                        tokenizer: try CLIPTokenizer.shared())
        let initial = try initialContexts(o.promptInit, configuration: config, width: model.text.width)
        let held = o.validation
        let shotSet = Set(request.shots.map(JSONFile.absolute))
        if let overlap = held.first(where: { shotSet.contains(JSONFile.absolute($0)) }) {
            throw DetectionError.badSetting(setting: "validation", reason: "\(overlap) is both a shot and a validation image")
        }
        let features = try encodePromptAD(request.shots, label: "shot", model: model, configuration: config, events: events)
        let validation = held.isEmpty ? nil
            : try encodePromptAD(held, label: "validation image", model: model, configuration: config, events: events)
        let fitted = try fitter.fit(shotFeatures: features, shots: request.shots.map(ModelFilePaths.recordable),
                                    clipPath: ModelFilePaths.recordable(clipPath), initial: initial,
                                    validation: validation) { task, epoch, loss in
            events(.epoch(task: task.rawValue, epoch: epoch, of: config.epochs, loss: loss))
        }
        let detector = try DetectorFactory.makePromptAD(fitted, metadata: [:], clipPath: clipPath, modelPath: nil, spec, options)
        return (detector, fitted)
    }

    /// Official PromptLearner contexts by task, told apart by their number of normal prompts.
    static func initialContexts(_ paths: [String], configuration config: PromptADConfiguration,
                                width: Int) throws -> [PromptADLoss.Task: PromptContext] {
        var initial: [PromptADLoss.Task: PromptContext] = [:]
        for path in paths {
            let context = try PromptContext.load(path: path, configuration: config, width: width)
            let task: PromptADLoss.Task
            switch context.normalPrompts {
            case config.classificationNormalPrompts: task = .classification
            case config.segmentationNormalPrompts: task = .segmentation
            default:
                throw DetectionError.unreadableFile(path: path, reason: "normal_ctx has \(context.normalPrompts) prompts; expected \(config.classificationNormalPrompts) (classification) or \(config.segmentationNormalPrompts) (segmentation)")
            }
            if initial[task] != nil {
                throw DetectionError.badSetting(setting: "prompt-init", reason: "two files for the \(task.rawValue) prompts")
            }
            initial[task] = context
        }
        return initial
    }

    /// Features of images the user chose; one that cannot be read is an error naming it, not a skip.
    static func encodePromptAD(_ paths: [String], label: String, model: CLIPModel, configuration config: PromptADConfiguration,
                               events: (Event) -> Void) throws -> PromptADImageFeatures {
        let preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        var features: [PromptADImageFeatures] = []
        for (i, path) in paths.enumerated() {
            let image = try ImageDecoder.decodeRGB(path: path)
            try preprocessor.validate(image)
            let pixels = try preprocessor.preprocess(image)
            features.append(try PromptADImageFeatures.compute(pixels.reshaped([1, 3, config.imageSize, config.imageSize]),
                                                              model: model, configuration: config))
            events(.encoded(label: label, done: i + 1, total: paths.count))
        }
        return PromptADImageFeatures.concatenate(features)
    }
}
