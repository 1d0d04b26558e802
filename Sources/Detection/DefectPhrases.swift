import FileAccess
import Foundation

/// The user's defect words and descriptions, from the options every method spells the same way: `--defect-words`
/// (comma-separated), `--phrase` (repeatable) and `--phrases-file` (one per line; blank lines and lines starting
/// with # are skipped). Recorded in `DetectorSpec.phrases`.
public enum DefectPhrases {
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

    /// Everything given, in order: words, then phrases, then the file's lines; nil when nothing was given.
    public static func combine(words list: String?, phrases: [String], file: String?) throws -> [String]? {
        let all = (list.map(words) ?? []) + phrases + (try file.map(read(file:)) ?? [])
        if list != nil || !phrases.isEmpty || file != nil, all.isEmpty {
            throw DetectionError.badSetting(setting: "defect-words", reason: "no defect word given")
        }
        return all.isEmpty ? nil : all
    }
}
