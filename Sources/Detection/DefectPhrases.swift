import FileAccess
import Foundation

/// The user's defect words and descriptions, from the options every method spells the same way: `--defect-words`
/// (comma-separated), `--phrase` (repeatable) and `--phrases-file` (one per line; blank lines and lines starting
/// with # are skipped). Recorded in `DetectorSpec.phrases` (and so in a fitted model file's spec).
///
/// One rule for every method: a phrase holds "{}" at most once, where the product goes (PromptAD and WinCLIP: the
/// class name; AnomalyCLIP: "object", its prompts being object-agnostic); a phrase without "{}" is put before it, in
/// place of the official prompts' "damaged" ("crack" -> "crack {}").
public enum DefectPhrases {
    /// Model-file metadata key of a fitted PromptAD model's phrases (a JSON list, as typed).
    public static let metadataKey = "defect_phrases"

    /// The phrase as a state template with "{}" exactly once; more than one "{}" is an error naming the phrase.
    public static func template(_ phrase: String) throws -> String {
        let trimmed = phrase.trimmingCharacters(in: .whitespaces)
        let holes = trimmed.components(separatedBy: "{}").count - 1
        guard !trimmed.isEmpty, trimmed != "{}" else {
            throw DetectionError.badSetting(setting: "phrase", reason: "a defect word or phrase is empty")
        }
        guard holes <= 1 else {
            throw DetectionError.badSetting(setting: "phrase", reason: "'\(phrase)' holds {} \(holes) times; at most once (where the product goes)")
        }
        return holes == 1 ? trimmed : "\(trimmed) {}"
    }

    /// "crack, hole,missing part" -> ["crack", "hole", "missing part"] (empty items dropped).
    public static func words(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The phrases of a file; an unreadable or empty file is an error naming it.
    public static func read(file path: String) throws -> [String] {
        let text: String
        do { text = try ReadableFile.text(path) } catch let error as FileAccessError {
            throw DetectionError.unreadableFile(path: path, reason: "cannot read the phrases file (UTF-8 text, one phrase per line): \(error.reason)")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else { throw DetectionError.unreadableFile(path: path, reason: "the phrases file has no phrase") }
        return lines
    }

    /// Everything given, in order: words, then phrases, then the file's lines, each checked by `template`; nil when
    /// nothing was given. Recorded as typed (the templates are made where the prompts are built).
    public static func combine(words list: String?, phrases: [String], file: String?) throws -> [String]? {
        let all = (list.map(words) ?? []) + phrases + (try file.map(read(file:)) ?? [])
        if list != nil || !phrases.isEmpty || file != nil, all.isEmpty {
            throw DetectionError.badSetting(setting: "defect-words", reason: "no defect word given")
        }
        for phrase in all { _ = try template(phrase) }
        return all.isEmpty ? nil : all
    }
}
