import FileAccess
import Foundation

/// A CSV or JSONL list of samples. CSV: a header with `image` and `label` columns and optional `mask`,
/// `class` (or `object`), `defect`, `split`. JSONL: one object per line with the same keys. Relative paths are
/// relative to the list file's folder. Labels: 1/0, true/false, anomaly/anomalous/abnormal/defect vs
/// normal/good. Without a `class` the class is the list file's stem; without a `split` every row is a test row.
public struct ListDataset: DatasetReader {
    public let path: String

    public init(path: String) { self.path = path }

    struct Row {
        var line: Int
        var image: String
        var label: String
        var mask: String?
        var className: String?
        var defect: String?
        var split: String?
    }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        let data = try Self.contents(path)
        let text = String(decoding: data, as: UTF8.self)
        let rows = FileTree.fileExtension(path).hasPrefix("json") ? try jsonRows(text) : try csvRows(text)
        let base = FileTree.parent(path)
        let defaultClass = FileTree.stem(path)
        var all = [String: [DatasetSample]]()
        for r in rows {
            let className = r.className.flatMap { $0.isEmpty ? nil : $0 } ?? defaultClass
            if all[className] == nil { all[className] = [] }
            guard (r.split.flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "test") == split.rawValue else { continue }
            let anomalous = try parseLabel(r.label, line: r.line)
            let image = FileTree.join(base, r.image)
            guard FileTree.isFile(image) else { throw DatasetError.missingFile(path: image, what: "image (line \(r.line))") }
            var mask: String?
            if let m = r.mask, !m.isEmpty {
                let full = FileTree.join(base, m)
                guard FileTree.isFile(full) else { throw DatasetError.missingFile(path: full, what: "mask (line \(r.line))") }
                mask = full
            }
            let defect = r.defect.flatMap { $0.isEmpty ? nil : $0 } ?? (anomalous ? "anomaly" : "good")
            all[className, default: []].append(DatasetSample(imagePath: image, maskPath: mask, label: anomalous,
                                                             defectType: defect, className: className))
        }
        let names = try FileTree.select(Array(all.keys), requested: classes, root: path, layout: "list")
        var out = [String: [DatasetSample]]()
        for name in names {
            let samples = (all[name] ?? []).sorted { $0.imagePath < $1.imagePath }
            guard !samples.isEmpty else { throw DatasetError.emptySplit(split: split.rawValue, path: "\(path) (class \(name))") }
            out[name] = samples
        }
        return out
    }

    /// The list file's bytes (a FIFO, a device or a missing file is an error naming it). Read with `ReadableFile`,
    /// not `contents(atPath:)`, which leaks a 4 KiB probe buffer for an empty file (found by FuzzDatasetList).
    static func contents(_ path: String) throws -> Data {
        do { return try ReadableFile.read(path, limit: ReadableFile.textLimit) } catch let error as FileAccessError {
            throw DatasetError.unreadableInput(path: path, reason: error.reason)
        }
    }

    func parseLabel(_ s: String, line: Int) throws -> Bool {
        switch s.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "anomaly", "anomalous", "abnormal", "defect", "bad": return true
        case "0", "false", "normal", "good", "ok": return false
        default: throw DatasetError.badList(path: path, line: line, reason: "label '\(s)' is neither normal nor anomalous")
        }
    }

    func csvRows(_ text: String) throws -> [Row] {
        let table = try CSVTable(text: text, path: path)
        guard let image = table.column("image"), let label = table.column("label") else {
            throw DatasetError.badList(path: path, line: 1, reason: "header needs 'image' and 'label' columns")
        }
        let mask = table.column("mask"), cls = table.column("class") ?? table.column("object")
        let defect = table.column("defect"), split = table.column("split")
        return try table.rows.map { line, f in
            guard f.count == table.header.count else {
                throw DatasetError.badList(path: path, line: line, reason: "\(f.count) fields, header has \(table.header.count)")
            }
            return Row(line: line, image: f[image], label: f[label], mask: mask.map { f[$0] },
                       className: cls.map { f[$0] }, defect: defect.map { f[$0] }, split: split.map { f[$0] })
        }
    }

    func jsonRows(_ text: String) throws -> [Row] {
        var rows = [Row]()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.isEmpty else { continue }
            guard let object = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(line.utf8)) else {
                throw DatasetError.badList(path: path, line: i + 1, reason: "not a JSON object of strings, numbers and booleans")
            }
            func string(_ key: String) -> String? { object[key]?.text }
            guard let image = string("image"), let label = string("label") else {
                throw DatasetError.badList(path: path, line: i + 1, reason: "needs 'image' and 'label'")
            }
            rows.append(Row(line: i + 1, image: image, label: label, mask: string("mask"),
                            className: string("class") ?? string("object"), defect: string("defect"),
                            split: string("split")))
        }
        return rows
    }
}

/// A JSONL field value: string, number or boolean, read back as text.
struct JSONScalar: Decodable {
    let text: String?

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = nil }
        else if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
        else if let i = try? c.decode(Int.self) { text = String(i) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else { text = try c.decode(String.self) }
    }
}
