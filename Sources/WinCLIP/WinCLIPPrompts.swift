/// WinCLIP's compositional prompt ensemble, as anomalib's `prompting.py` builds it: every state word, filled with the
/// class name, inside every template; the normal and the anomalous prompts are encoded and averaged per group.
public enum WinCLIPPrompts {
    public static let normalStates = [
        "{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw", "{} without defect", "{} without damage",
    ]
    public static let anomalousStates = ["damaged {}", "{} with flaw", "{} with defect", "{} with damage"]
    /// 21 templates; "a jpeg corrupted photo of the {}." appears twice in anomalib's list and is kept (it weights the mean).
    public static let templates = [
        "a cropped photo of the {}.", "a close-up photo of a {}.", "a close-up photo of the {}.",
        "a bright photo of a {}.", "a bright photo of the {}.", "a dark photo of the {}.", "a dark photo of a {}.",
        "a jpeg corrupted photo of the {}.", "a jpeg corrupted photo of the {}.", "a blurry photo of the {}.",
        "a blurry photo of a {}.", "a photo of a {}.", "a photo of the {}.", "a photo of a small {}.",
        "a photo of the small {}.", "a photo of a large {}.", "a photo of the large {}.",
        "a photo of the {} for visual inspection.", "a photo of a {} for visual inspection.",
        "a photo of the {} for anomaly detection.", "a photo of a {} for anomaly detection.",
    ]

    /// (normal, anomalous) prompts for a class, state-major then template: 147 and 84, plus 21 per extra anomalous
    /// state (a template with "{}" for the class name, e.g. the user's "crack {}"), appended after the official ones.
    public static func ensemble(className: String, extraAnomalousStates: [String] = []) -> (normal: [String], anomalous: [String]) {
        func fill(_ states: [String]) -> [String] {
            states.flatMap { state in
                let phrase = state.replacingOccurrences(of: "{}", with: className)
                return templates.map { $0.replacingOccurrences(of: "{}", with: phrase) }
            }
        }
        return (fill(normalStates), fill(anomalousStates + extraAnomalousStates))
    }
}
