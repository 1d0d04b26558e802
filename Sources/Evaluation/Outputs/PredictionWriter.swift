import Checkpoint
import Foundation

/// Writes what `clipad predict` produces into an output folder: `scores.jsonl` (one line per image) and one map
/// file per image named after the image's stem (`<stem>.npy`), disambiguated with the parent folder on a clash.
public final class PredictionWriter {
    public enum MapFormat: String, CaseIterable, Sendable { case npy, png, none }

    public let directory: String
    public let mapFormat: MapFormat
    private var lines: [String] = []
    private var usedNames = Set<String>()

    public init(directory: String, mapFormat: MapFormat) throws {
        self.directory = directory
        self.mapFormat = mapFormat
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A unique file stem for an image path: its stem, or `<parent>_<stem>` (then a counter) when taken.
    public func uniqueStem(for imagePath: String) -> String {
        let url = URL(fileURLWithPath: imagePath)
        let stem = url.deletingPathExtension().lastPathComponent
        var candidate = stem
        if usedNames.contains(candidate) { candidate = "\(url.deletingLastPathComponent().lastPathComponent)_\(stem)" }
        var n = 2
        let base = candidate
        while usedNames.contains(candidate) { candidate = "\(base)_\(n)"; n += 1 }
        usedNames.insert(candidate)
        return candidate
    }

    /// Records one image's result line; `extra` holds further JSON fields (already encoded values).
    public func record(image: String, score: Float, extra: [(String, String)] = []) {
        var fields = ["\"image\": \(jsonString(image))", "\"score\": \(score)"]
        for (k, v) in extra { fields.append("\(jsonString(k)): \(v)") }
        lines.append("{" + fields.joined(separator: ", ") + "}")
    }

    /// Writes a [H, W] map as `<stem>.npy`.
    public func writeMap(_ values: [Float], height: Int, width: Int, stem: String) throws {
        try NumpyArrayFile.write(values, shape: [height, width], to: (directory as NSString).appendingPathComponent("\(stem).npy"))
    }

    /// Writes `scores.jsonl` atomically.
    public func finish() throws {
        let text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
        try AtomicFileWriter.write(Data(text.utf8), to: (directory as NSString).appendingPathComponent("scores.jsonl"))
    }
}
