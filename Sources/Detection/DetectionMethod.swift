/// The anomaly-detection methods ClipAD runs.
public enum DetectionMethod: String, Codable, CaseIterable, Sendable {
    case anomalyclip, promptad, winclip

    /// The settings of a `DetectorSpec` that mean something for this method; any other one given is an error.
    /// (Names are the command-line option names, so a message can name the option.)
    public var acceptedSettings: Set<DetectorSpec.Setting> {
        switch self {
        case .anomalyclip: return [.clip, .activation, .prompts, .model, .imageSize, .layers, .dpamBlocks, .shots, .bankLayers, .phrases]
        case .promptad: return [.clip, .activation, .model, .mapSize]
        case .winclip: return [.clip, .activation, .className, .shots, .phrases]
        }
    }
}
