import Checkpoint
import Foundation

/// Writes what `clipad predict` produces into an output folder: `scores.jsonl` (one line per image) and one map
/// file per image named after the image's stem (`<stem>.npy`), disambiguated with the parent folder on a clash.
/// No file is ever written over one of the run's inputs (`inputs`), and each line names its map file (`map`).
public final class PredictionWriter {
    public enum MapFormat: String, CaseIterable, Sendable { case npy, png, none }

    public let directory: String
    public let mapFormat: MapFormat
    private var lines: [String] = []
    private var usedNames = Set<String>()
    private let guardInputs: OutputGuard

    public init(directory: String, mapFormat: MapFormat, inputs: [String] = []) throws {
        self.directory = directory
        self.mapFormat = mapFormat
        guardInputs = OutputGuard(inputs: inputs)
        try guardInputs.check(path(for: "scores.jsonl"))
        try OutputPath.prepareFolder(directory)
    }

    /// The path of an output file in the folder, refused when it is one of the inputs.
    public func outputPath(_ name: String) throws -> String {
        let p = path(for: name)
        try guardInputs.check(p)
        return p
    }

    func path(for name: String) -> String { (directory as NSString).appendingPathComponent(name) }

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

    /// The first non-finite score passed to `record`: `finish` throws it instead of writing scores.jsonl.
    public private(set) var rejected: NonFiniteValueError?

    /// Records one image's result line; `map` names its map file in the folder; `extra` holds further JSON fields
    /// (already encoded values). A non-finite score is not recorded: it is kept in `rejected` and makes `finish`
    /// throw (use `append` to throw at once).
    public func record(image: String, score: Float, map: String? = nil, extra: [(String, String)] = []) {
        do { try append(image: image, score: score, map: map, extra: extra) } catch {
            if rejected == nil { rejected = error }
        }
    }

    /// Records one image's result line, throwing `NonFiniteValueError` (and recording nothing) for a NaN or
    /// infinite score, so `"score": nan` never reaches scores.jsonl.
    public func append(image: String, score: Float, map: String? = nil, extra: [(String, String)] = []) throws(NonFiniteValueError) {
        guard score.isFinite else { throw NonFiniteValueError(image: image, what: "score", value: score, index: nil) }
        var fields = ["\"image\": \(jsonString(image))", "\"score\": \(score)"]
        if let map { fields.append("\"map\": \(jsonString(map))") }
        for (k, v) in extra { fields.append("\(jsonString(k)): \(v)") }
        lines.append("{" + fields.joined(separator: ", ") + "}")
    }

    /// Writes a [H, W] map as `<stem>.npy`.
    public func writeMap(_ values: [Float], height: Int, width: Int, stem: String) throws {
        try NonFiniteValues.check(map: values, image: stem)
        try NumpyArrayFile.write(values, shape: [height, width], to: try outputPath("\(stem).npy"))
    }

    /// Writes `scores.jsonl` atomically; throws the first non-finite score `record` refused, writing nothing.
    public func finish() throws {
        if let rejected { throw rejected }
        let text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
        try AtomicFileWriter.write(Data(text.utf8), to: try outputPath("scores.jsonl"))
    }
}
