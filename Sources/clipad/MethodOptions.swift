import ArgumentParser
import Detection

extension DetectionMethod: ExpressibleByArgument {}

/// `--method` and every method's settings, shared by `predict`, `eval` and `calibrate`: parsed into a
/// `DetectorSpec`; the library builds the detector (and says which settings a method does not take).
struct MethodOptions: ParsableArguments {
    @Option(help: "Method: \(DetectionMethod.allCases.map(\.rawValue).joined(separator: ", ")).") var method: DetectionMethod
    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Detector spec JSON (`run.json` of a predict run, or written by hand); options given here override it.")
    var spec: String?

    @Option(help: "AnomalyCLIP: prompt file (the official .pth or a ClipAD .safetensors).") var prompts: String?
    @Option(name: .customLong("image-size"), help: "AnomalyCLIP: square input side (default: the prompt file's, else per backbone: 518 for ViT-L/14).")
    var imageSize: Int?
    @Option(help: "AnomalyCLIP: comma-separated 1-based vision layers whose maps are summed (default per backbone: 24 for ViT-L/14).")
    var layers: String?
    @Option(name: .customLong("dpam-blocks"), help: "AnomalyCLIP: final vision blocks running DPAM (default per backbone: 19 for ViT-L/14).")
    var dpamBlocks: Int?

    @Option(help: "PromptAD / AnomalyCLIP + shots: model file written by `clipad fit` (AnomalyCLIP: prompts + shot bank).") var model: String?
    @Option(name: .customLong("map-size"), help: "PromptAD: output map side N (N x N; default: the model's input size).") var mapSize: Int?

    @Option(name: .customLong("class-name"), help: "WinCLIP: object name in the prompt ensemble (default: object).") var className: String?
    @Option(parsing: .upToNextOption, help: "WinCLIP+ / AnomalyCLIP + shots: normal reference images (files or folders); none = zero-shot (AnomalyCLIP: or the bank of --model).")
    var shots: [String] = []
    @Option(name: .customLong("bank-layers"), help: "AnomalyCLIP + shots: comma-separated 1-based vision layers whose patch tokens form the shot bank (default per backbone: 6,12,18,24 for ViT-L/14; other depths: quarters).")
    var bankLayers: String?
    @Option(name: .customLong("defect-words"), help: "AnomalyCLIP / WinCLIP: comma-separated defect words, extra anomalous prompts ('crack' -> AnomalyCLIP '[learned context] crack object.', max with the learned one; WinCLIP 'crack {class}' in every template, averaged in). PromptAD: give them to `fit`.")
    var defectWords: String?
    @Option(name: .customLong("phrase"), help: "AnomalyCLIP / WinCLIP: one defect description (repeatable), {} at most once where the product goes ('object' / the class name).") var phrases: [String] = []
    @Option(name: .customLong("phrases-file"), help: "AnomalyCLIP / WinCLIP: file of defect descriptions, one per line (# comments), as --phrase.") var phrasesFile: String?

    @Option(help: "Thresholds JSON from `clipad calibrate` (default: those stored in the model file, if any).") var thresholds: String?
    @Flag(help: "Use thresholds or a model calibrated for a different detector anyway (a warning says what differs).")
    var force = false

    func validate() throws {
        if let s = imageSize, s < 1 { throw ValidationError("--image-size must be positive, got \(s)") }
        if let s = mapSize, s < 1 { throw ValidationError("--map-size must be positive, got \(s)") }
        if let d = dpamBlocks, d < 1 { throw ValidationError("--dpam-blocks must be positive, got \(d)") }
        if let l = layers, Self.parseLayers(l) == nil {
            throw ValidationError("--layers must be comma-separated positive integers, got '\(l)'")
        }
        if let l = bankLayers, Self.parseLayers(l) == nil {
            throw ValidationError("--bank-layers must be comma-separated positive integers, got '\(l)'")
        }
        do { try given(on: DetectorSpec(method: method)).checkSettingsApply() } catch { throw ValidationError("\(error)") }
    }

    static func parseLayers(_ s: String) -> [Int]? {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.compactMap { $0 }
    }

    /// What the user asked for: the spec file, then each option given on top.
    func request() throws -> DetectorSpec {
        let base = try self.spec.map(DetectorSpec.read(jsonFile:)) ?? DetectorSpec(method: method)
        if base.method != method {
            throw ValidationError("--spec \(self.spec ?? "") is for --method \(base.method.rawValue), not \(method.rawValue)")
        }
        var spec = given(on: base)
        do {
            if let words = try DefectPhrases.combine(words: defectWords, phrases: phrases, file: phrasesFile) { spec.phrases = words }
        } catch { throw ValidationError("\(error)") }
        return spec
    }

    /// `base` with each option given on the command line set.
    func given(on base: DetectorSpec) -> DetectorSpec {
        var spec = base
        if let v = clipOptions.clip { spec.clip = v }
        if let v = clipOptions.activation { spec.activation = v.rawValue }
        if let v = prompts { spec.prompts = v }
        if let v = imageSize { spec.imageSize = v }
        if let v = layers.flatMap(Self.parseLayers) { spec.layers = v }
        if let v = dpamBlocks { spec.dpamBlocks = v }
        if let v = model { spec.model = v }
        if let v = mapSize { spec.mapSize = v }
        if let v = className { spec.className = v }
        if !shots.isEmpty { spec.shots = shots }
        if let v = bankLayers.flatMap(Self.parseLayers) { spec.bankLayers = v }
        // The phrases file is read in `request()`; here only that some words were given (for the settings check).
        if defectWords != nil || !phrases.isEmpty || phrasesFile != nil { spec.phrases = DefectPhrases.words(defectWords ?? "") + phrases }
        return spec
    }

    /// Builds the detector; warnings (thresholds used with --force) are printed and returned for the outputs.
    func makeDetector(ignoringThresholds: Bool = false) throws -> (detector: any Detector, warnings: [String]) {
        var options = DetectorFactory.Options(thresholdsFile: thresholds, force: force, notice: printError)
        options.ignoreThresholds = ignoringThresholds
        let built = try DetectorFactory.make(try request(), options: options)
        for warning in built.warnings { printError(warning) }
        return built
    }
}
