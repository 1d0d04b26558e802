import AnomalyCLIP
import Checkpoint
import CLIP
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor
import WinCLIP

/// Builds any method's detector from a spec. Each value comes from, in order: the spec (what the user set), what
/// the model file recorded, `MethodDefaults`. Thresholds come from a thresholds file, else the spec, else the model
/// file, and must have been calibrated for the detector built (else an error; with `force`, a warning).
public enum DetectorFactory {
    public struct Options {
        /// A thresholds JSON from `clipad calibrate` (overrides stored thresholds).
        public var thresholdsFile: String?
        /// Use thresholds calibrated for another detector anyway (each difference becomes a warning).
        public var force = false
        /// Leave any thresholds aside (`clipad calibrate` is about to choose new ones).
        public var ignoreThresholds = false
        /// One-line notes for the user (activation guesses, references used).
        public var notice: (String) -> Void = { _ in }
        public var loader = CLIPLoader.shared
        public var defaults = MethodDefaults.shared

        public init(thresholdsFile: String? = nil, force: Bool = false, notice: @escaping (String) -> Void = { _ in }) {
            self.thresholdsFile = thresholdsFile
            self.force = force
            self.notice = notice
        }
    }

    /// The detector and the warnings the user must see (thresholds used with --force).
    public static func make(_ request: DetectorSpec, options: Options = Options()) throws -> (detector: any Detector, warnings: [String]) {
        let detector: any Detector
        let stored: CalibratedThresholds?
        switch request.method {
        case .anomalyclip: (detector, stored) = try makeAnomalyCLIP(request, options)
        case .promptad: (detector, stored) = try makePromptAD(request, options)
        case .winclip: (detector, stored) = (try makeWinCLIP(request, options), nil)   // no model file
        }
        try request.checkSettingsApply(resolved: detector.spec)
        var warnings: [String] = []
        if !options.ignoreThresholds, let (thresholds, what) = try chooseThresholds(request, stored: stored, detector: detector, options) {
            warnings = try thresholds.check(against: detector.identity, what: what, force: options.force)
            return ((detector as? any Calibratable)?.calibrated(thresholds) ?? detector, warnings)
        }
        return (detector, warnings)
    }

    /// A thresholds file, else the spec's, else the model file's; with a phrase naming where they came from.
    static func chooseThresholds(_ request: DetectorSpec, stored: CalibratedThresholds?, detector: any Detector,
                                 _ options: Options) throws -> (CalibratedThresholds, String)? {
        if let file = options.thresholdsFile {
            return (try CalibratedThresholds.read(jsonFile: file), "the thresholds in \(JSONFile.absolute(file))")
        }
        if let given = request.thresholds { return (given, "the spec's thresholds") }
        if let stored {
            return (stored, "the thresholds stored in \(JSONFile.absolute(detector.spec.model ?? detector.spec.prompts ?? ""))")
        }
        return nil
    }

    static func require<T>(_ value: T?, _ setting: DetectorSpec.Setting, _ method: DetectionMethod, _ why: String) throws -> T {
        guard let value else { throw DetectionError.missingSetting(setting: setting.rawValue, method: method.rawValue, why: why) }
        return value
    }

    static func activation(_ name: String?, setting: String) throws -> Activation? {
        guard let name else { return nil }
        guard let a = Activation(rawValue: name) else {
            throw DetectionError.badSetting(setting: setting, reason: "unknown activation '\(name)' (quick-gelu | gelu)")
        }
        return a
    }

    // MARK: - AnomalyCLIP

    static func makeAnomalyCLIP(_ request: DetectorSpec, _ options: Options) throws -> (AnomalyCLIPDetection, CalibratedThresholds?) {
        // A fitted model (`clipad fit --method anomalyclip`) is a prompt file with a shot bank; either one is read here.
        let promptsPath = try require(request.model ?? request.prompts, .prompts, .anomalyclip,
                                      "the learned prompts (the official .pth or a ClipAD prompt file), or --model written by `clipad fit --method anomalyclip`")
        let checkpoint = try Checkpoint.load(path: promptsPath)
        let (prompts, metadata) = try PromptParameters.load(checkpoint: checkpoint)
        let storedBank = try AnomalyCLIPShotBank.load(checkpoint: checkpoint)
        let recorded = metadata["detector_spec"].flatMap { try? JSONDecoder().decode(DetectorSpec.self, from: Data($0.utf8)) }
        let clipPath: String
        if let given = request.clip { clipPath = given } else if let typed = recorded?.clip {
            clipPath = try ModelFilePaths.resolve(typed, besideModel: promptsPath, what: "the CLIP checkpoint")
        } else {
            throw DetectionError.missingSetting(setting: "clip", method: "anomalyclip", why: "the prompts do not record a checkpoint")
        }
        let (model, fingerprint) = try options.loader.load(
            path: clipPath, requested: try activation(request.activation, setting: "activation"),
            recorded: metadata["activation"].flatMap(Activation.init(rawValue:)),
            fallback: options.defaults.activation(.anomalyclip), notice: options.notice)
        var config = AnomalyCLIPConfiguration.fromMetadata(metadata) ?? options.defaults.anomalyCLIPConfiguration(model: model)
        if let v = request.imageSize { config.imageSize = v }
        if let v = request.layers { config.featureLayers = v }
        if let v = request.dpamBlocks { config.dpamBlocks = v }
        config.contextLength = prompts.contextLength
        config.deepPromptDepth = prompts.deepPrompts.count + 1
        config.deepPromptTokens = prompts.deepPrompts.first?.shape[0] ?? config.deepPromptTokens
        let phrases = request.phrases ?? recorded?.phrases ?? []
        let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: config,
                                               tokenizer: try CLIPTokenizer.shared(), phrases: phrases)
        let (bank, shots) = try anomalyCLIPShotBank(request, stored: storedBank, recorded: recorded, fingerprint: fingerprint,
                                                    detector: detector, modelPath: promptsPath, options)
        var spec = DetectorSpec(method: .anomalyclip)
        spec.clip = JSONFile.absolute(clipPath)
        spec.clipFingerprint = fingerprint
        spec.activation = model.activation.rawValue
        spec.imageSize = config.imageSize
        spec.mapSize = config.imageSize
        spec.layers = config.featureLayers
        spec.dpamBlocks = config.dpamBlocks
        if request.model != nil { spec.model = JSONFile.absolute(promptsPath) } else { spec.prompts = JSONFile.absolute(promptsPath) }
        if let bank {
            spec.shots = shots
            spec.bankLayers = bank.layers
        }
        if !phrases.isEmpty { spec.phrases = phrases }
        return (AnomalyCLIPDetection(detector: detector, prompts: prompts, promptMetadata: metadata, spec: spec, bank: bank, shots: shots),
                CalibratedThresholds(metadata: metadata))
    }

    /// The shot bank: built from `request.shots` when given (at the requested or default bank layers), else the one the
    /// model file stores (checked against the loaded CLIP), else none (zero-shot).
    static func anomalyCLIPShotBank(_ request: DetectorSpec, stored: AnomalyCLIPShotBank?, recorded: DetectorSpec?, fingerprint: String,
                                    detector: AnomalyCLIPDetector, modelPath: String,
                                    _ options: Options) throws -> (AnomalyCLIPShotBank?, [String]) {
        let model = detector.model
        // Shots given anew build a bank (a spec read back from run.json repeats the stored bank's shots: kept).
        let repeatsStored = stored != nil && request.shots == recorded?.shots && (request.bankLayers ?? stored?.layers) == stored?.layers
        if let given = request.shots, !given.isEmpty, !repeatsStored {
            let layers = request.bankLayers ?? options.defaults.bankLayers(model: model)
            let shots = try AnomalyCLIPShotFitting.expandShots(given)
            let bank = try AnomalyCLIPShotFitting.bank(detector: detector, shots: shots, layers: layers)
            let names = shots.prefix(6).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            options.notice("AnomalyCLIP + shots: \(shots.count) shot(s) at layers \(layers.map(String.init).joined(separator: ",")): \(names)\(shots.count > 6 ? ", ..." : "")")
            return (bank, shots.map(JSONFile.absolute))
        }
        guard let stored else {
            if request.bankLayers != nil {
                throw DetectionError.badSetting(setting: "bank-layers", reason: "needs --shots (or a model written by `clipad fit --method anomalyclip`)")
            }
            return (nil, [])
        }
        try stored.check(against: model, source: modelPath)
        if let layers = request.bankLayers, layers != stored.layers {
            throw DetectionError.badSetting(setting: "bank-layers", reason: "\(modelPath) stores a bank of layers \(stored.layers.map(String.init).joined(separator: ",")); pass --shots to build one at other layers")
        }
        if let was = recorded?.clipFingerprint, was != fingerprint {
            throw DetectionError.badSetting(setting: "clip", reason: "\(modelPath) holds a shot bank built with another CLIP checkpoint (fingerprint \(was), this one \(fingerprint)); refit it with this checkpoint")
        }
        return (stored, recorded?.shots ?? [])
    }

    // MARK: - PromptAD

    static func makePromptAD(_ request: DetectorSpec, _ options: Options) throws -> (PromptADDetection, CalibratedThresholds?) {
        let modelPath = try require(request.model, .model, .promptad, "the model file written by `clipad fit --method promptad`")
        let (fitted, metadata) = try PromptADModel.load(path: modelPath)
        let clipPath = try request.clip ?? ModelFilePaths.resolve(fitted.clipPath, besideModel: modelPath, what: "the CLIP checkpoint")
        return (try makePromptAD(fitted, metadata: metadata, clipPath: clipPath, modelPath: modelPath, request, options),
                CalibratedThresholds(metadata: metadata))
    }

    /// A PromptAD detector from a fitted model, loaded from `modelPath` or just fitted in memory (`ShotFitting`; nil path).
    static func makePromptAD(_ fitted: PromptADModel, metadata: [String: String], clipPath: String, modelPath: String?,
                             _ request: DetectorSpec, _ options: Options) throws -> PromptADDetection {
        let (model, fingerprint) = try options.loader.load(
            path: clipPath, requested: try activation(request.activation, setting: "activation"),
            recorded: Activation(rawValue: fitted.activation), fallback: options.defaults.activation(.promptad), notice: options.notice)
        let detector = try PromptADDetector(model: model, fitted: fitted)
        let mapSide = request.mapSize ?? fitted.configuration.imageSize
        guard (1...Interpolation.maxSide).contains(mapSide) else {
            throw DetectionError.badSetting(setting: "map-size", reason: "must be in 1...\(Interpolation.maxSide), got \(mapSide)")
        }
        var spec = DetectorSpec(method: .promptad)
        spec.clip = JSONFile.absolute(clipPath)
        spec.clipFingerprint = fingerprint
        spec.activation = model.activation.rawValue
        spec.imageSize = fitted.configuration.imageSize
        spec.mapSize = mapSide
        spec.className = fitted.className
        spec.shots = fitted.shots
        spec.model = modelPath.map(JSONFile.absolute)
        // Fitted into the text gallery: the model file's words (or, fitted in memory, the request's) are its own.
        let recorded = metadata[DefectPhrases.metadataKey].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        spec.phrases = modelPath == nil ? request.phrases : recorded
        return PromptADDetection(detector: detector, metadata: metadata, spec: spec, mapSide: mapSide, shots: fitted.shots)
    }

    // MARK: - WinCLIP

    static func makeWinCLIP(_ request: DetectorSpec, _ options: Options) throws -> WinCLIPDetection {
        let clipPath = try require(request.clip, .clip, .winclip, "WinCLIP's backbone")
        let (model, fingerprint) = try options.loader.load(
            path: clipPath, requested: try activation(request.activation, setting: "activation"), recorded: nil,
            fallback: options.defaults.activation(.winclip), notice: options.notice)
        let className = request.className ?? options.defaults.className(.winclip)
        let phrases = request.phrases ?? []
        var detector = try WinCLIPDetector(model: model, className: className, extraAnomalousStates: try phrases.map(DefectPhrases.template),
                                           tokenizer: try CLIPTokenizer.shared())
        let shots = try (request.shots ?? []).isEmpty ? [] : ImageInputs.expand(request.shots ?? []).sorted()
        let preprocessor = ImagePreprocessor(size: model.vision.nativeImageSize, resize: .square)
        if !shots.isEmpty {
            // A reference that cannot be read is an error, not a skip: the user chose these images.
            let references = try shots.map { try ImageDecoder.decodeRGB(path: $0) }
            for image in references { try preprocessor.validate(image) }
            try detector.setReferences(preprocessor.batch(references))
            let names = shots.prefix(6).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            options.notice("WinCLIP+: \(shots.count) reference image(s): \(names)\(shots.count > 6 ? ", ..." : "")")
        }
        var spec = DetectorSpec(method: .winclip)
        spec.clip = JSONFile.absolute(clipPath)
        spec.clipFingerprint = fingerprint
        spec.activation = model.activation.rawValue
        spec.imageSize = preprocessor.size
        spec.mapSize = preprocessor.size
        spec.className = className
        spec.shots = shots.map(JSONFile.absolute)
        if !phrases.isEmpty { spec.phrases = phrases }
        return WinCLIPDetection(detector: detector, spec: spec, shots: shots)
    }
}
