import Evaluation

/// Everything that makes a runnable detector, as data: what a user asked for (unset fields take the value a model
/// file recorded, then the defaults in `MethodDefaults`), and, once built, what the detector actually runs
/// (`Detector.spec`, every field resolved). Written beside every prediction run and into model files.
public struct DetectorSpec: Codable, Equatable, Sendable {
    public var method: DetectionMethod
    /// CLIP checkpoint path (PromptAD: recorded in its model file).
    public var clip: String?
    /// Content fingerprint of the CLIP checkpoint (`CheckpointFingerprint`), filled in when built.
    public var clipFingerprint: String?
    /// MLP activation (quick-gelu | gelu).
    public var activation: String?
    /// Square input side.
    public var imageSize: Int?
    /// Side of the square output map.
    public var mapSize: Int?
    /// AnomalyCLIP: 1-based vision layers whose maps are summed.
    public var layers: [Int]?
    /// AnomalyCLIP: final vision blocks running DPAM.
    public var dpamBlocks: Int?
    /// Product name (WinCLIP prompts; PromptAD: recorded at fit time).
    public var className: String?
    /// Normal reference images (WinCLIP+; AnomalyCLIP + shots: the bank is built from them; PromptAD and a fitted
    /// AnomalyCLIP model: recorded at fit time).
    public var shots: [String]?
    /// AnomalyCLIP + shots: 1-based vision blocks whose original-path patch tokens form the shot bank.
    public var bankLayers: [Int]?
    /// AnomalyCLIP: the user's defect words / phrases, extra abnormal prompts ("[ctx] crack object.").
    public var phrases: [String]?
    /// AnomalyCLIP prompt file.
    public var prompts: String?
    /// PromptAD model file.
    public var model: String?
    /// Thresholds and the detector they were calibrated for.
    public var thresholds: CalibratedThresholds?
    public var clipadVersion: String = ClipADVersion.current

    public init(method: DetectionMethod) {
        self.method = method
    }

    /// A setting a user can give; the raw value is its command-line option.
    public enum Setting: String, CaseIterable, Sendable {
        case clip, activation, imageSize = "image-size", mapSize = "map-size", layers, dpamBlocks = "dpam-blocks"
        case className = "class-name", shots, prompts, model, bankLayers = "bank-layers", phrases = "defect-words"
    }

    /// The settings this spec gives a value to.
    public var givenSettings: [Setting] { Setting.allCases.filter { value($0) != nil } }

    /// Throws for a setting the method does not use (it would be silently ignored otherwise).
    public func checkSettingsApply() throws { try checkSettingsApply(resolved: nil) }

    enum CodingKeys: String, CodingKey {
        case method, clip, clipFingerprint = "clip_fingerprint", activation, imageSize = "image_size", mapSize = "map_size"
        case layers, dpamBlocks = "dpam_blocks", className = "class_name", shots, bankLayers = "bank_layers", phrases
        case prompts, model, thresholds
        case clipadVersion = "clipad_version"
    }

    /// Decodes a spec file (JSON): a spec, or a `run.json` (its `spec`).
    public static func read(jsonFile path: String) throws -> DetectorSpec {
        if let record = try? JSONFile.decode(RunRecord.self, from: path) { return record.spec }
        return try JSONFile.decode(DetectorSpec.self, from: path)
    }

    /// Throws for a setting the method does not take unless it equals what the built detector resolved it to
    /// (a spec read back from `run.json` records every resolved value, e.g. PromptAD's input size from its model).
    func checkSettingsApply(resolved: DetectorSpec?) throws {
        for setting in givenSettings where !method.acceptedSettings.contains(setting) {
            if let resolved, value(setting) == resolved.value(setting) { continue }
            throw DetectionError.settingNotApplicable(setting: setting.rawValue, method: method.rawValue,
                                                      accepted: method.acceptedSettings.map(\.rawValue).sorted())
        }
    }

    func value(_ setting: Setting) -> String? {
        switch setting {
        case .clip: return clip
        case .activation: return activation
        case .imageSize: return imageSize.map(String.init)
        case .mapSize: return mapSize.map(String.init)
        case .layers: return layers?.map(String.init).joined(separator: ",")
        case .dpamBlocks: return dpamBlocks.map(String.init)
        case .className: return className
        case .shots: return shots?.joined(separator: "\n")
        case .prompts: return prompts
        case .model: return model
        case .bankLayers: return bankLayers?.map(String.init).joined(separator: ",")
        case .phrases: return phrases?.joined(separator: "\n")
        }
    }

    public func json() -> String { JSONFile.encode(self) }
}
