import FileAccess
import Foundation

/// Predictions written by `clipad predict` (`scores.jsonl` + `<stem>.npy` maps), looked up by image path
/// (as written, or resolved to an absolute standardized path), else by image file stem when that is unique.
public struct PredictionSet {
    public struct Entry: Sendable, Equatable {
        public var image: String
        public var score: Float
        /// The `.npy` map file.
        public var mapFile: String
        /// Size of the scored image when the line records it (`eval --shard` does: masks are then resized through
        /// it exactly as in the unsharded run).
        public var imageWidth: Int? = nil
        public var imageHeight: Int? = nil
    }

    public enum LookupError: Error, CustomStringConvertible {
        case missing(image: String, directory: String)
        case badLine(path: String, line: Int, reason: String)
        case badMap(path: String, shape: [Int])
        case overlap(image: String, directories: [String])

        public var description: String {
            switch self {
            case let .missing(_, directory): return "no prediction in \(directory)/scores.jsonl (matched by path, then by file stem)"
            case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
            case let .badMap(path, shape): return "\(path): expected a [H, W] or [1, H, W] map, got shape \(shape)"
            case let .overlap(image, directories):
                return "\(image) has a prediction in both \(directories.joined(separator: " and ")) (overlapping shards?)"
            }
        }
    }

    /// The folder read (several, comma-separated, when merged).
    public private(set) var directory: String
    public private(set) var entries: [Entry] = []
    private var byPath: [String: Int] = [:]
    private var byStem: [String: [Int]] = [:]

    /// Merges the predictions of several folders (the shards of one `eval --shard I/N` run); an image predicted in two
    /// folders is an error naming both, whatever its scores.
    public init(directories: [String]) throws {
        guard let first = directories.first else { throw LookupError.badLine(path: "--predictions", line: 0, reason: "no folder given") }
        self = try PredictionSet(directory: first)
        var owner = [String: String]()
        for e in entries { owner[Self.normalized(e.image)] = first }
        for directory in directories.dropFirst() {
            let part = try PredictionSet(directory: directory)
            for e in part.entries {
                let key = Self.normalized(e.image)
                if let other = owner[key] { throw LookupError.overlap(image: e.image, directories: [other, directory]) }
                owner[key] = directory
                add(e)
            }
        }
        self.directory = directories.joined(separator: ", ")
    }

    /// Reads `directory/scores.jsonl`; map names are re-derived the way `PredictionWriter` assigned them
    /// (in line order: the stem, then `<parent>_<stem>`, then a counter).
    public init(directory: String) throws {
        self.directory = directory
        let path = FileTree.join(directory, "scores.jsonl")
        let text: String
        do { text = try ReadableFile.text(path) } catch let error as FileAccessError {
            throw LookupError.badLine(path: path, line: 0, reason: "cannot read file: \(error.reason)")
        }
        let stems = try PredictionWriter(directory: directory, mapFormat: .none)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let image = object["image"] as? String, let score = (object["score"] as? NSNumber)?.floatValue else {
                throw LookupError.badLine(path: path, line: n + 1, reason: "expected {\"image\": ..., \"score\": ...}")
            }
            // Lines name their map file (`map`); older ones did not, and the name is re-derived as it was assigned.
            let stem = stems.uniqueStem(for: image)
            let mapName = (object["map"] as? String) ?? stem + ".npy"
            add(Entry(image: image, score: score, mapFile: FileTree.join(directory, mapName),
                      imageWidth: (object["image_width"] as? NSNumber)?.intValue, imageHeight: (object["image_height"] as? NSNumber)?.intValue))
        }
    }

    private mutating func add(_ e: Entry) {
        let index = entries.count
        entries.append(e)
        byPath[e.image] = index
        byPath[Self.normalized(e.image)] = index
        byStem[FileTree.stem(e.image), default: []].append(index)
    }

    /// Whether any prediction has a `.npy` map to compute pixel metrics from (`predict --maps png|none` writes none).
    public var hasMaps: Bool {
        entries.contains { $0.mapFile.hasSuffix(".npy") && FileManager.default.fileExists(atPath: $0.mapFile) }
    }

    /// The prediction for an image with its score only (image metrics), map empty.
    public func scoreOnly(for imagePath: String) throws -> MapPrediction {
        MapPrediction(map: [], width: 0, height: 0, score: try entry(for: imagePath).score)
    }

    /// The entry for a dataset image: same path, else the only prediction with the same file stem.
    public func entry(for imagePath: String) throws -> Entry {
        if let i = byPath[imagePath] ?? byPath[Self.normalized(imagePath)] { return entries[i] }
        if let hits = byStem[FileTree.stem(imagePath)], hits.count == 1 { return entries[hits[0]] }
        throw LookupError.missing(image: imagePath, directory: directory)
    }

    /// The prediction for an image as a `MapPrediction` (map read from its `.npy`).
    public func prediction(for imagePath: String) throws -> MapPrediction {
        let e = try entry(for: imagePath)
        let (values, shape) = try NumpyArrayFile.read(path: e.mapFile)
        let dims = shape.count == 3 && shape[0] == 1 ? Array(shape.dropFirst()) : shape
        guard dims.count == 2, dims[0] > 0, dims[1] > 0 else { throw LookupError.badMap(path: e.mapFile, shape: shape) }
        let size = e.imageWidth.flatMap { w in e.imageHeight.map { (width: w, height: $0) } }
        return MapPrediction(map: values, width: dims[1], height: dims[0], score: e.score, imageSize: size)
    }

    static func normalized(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
