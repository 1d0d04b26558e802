import Foundation

/// VisA: `split_csv/1cls.csv` with columns object, split, label, image, mask (paths relative to the root;
/// label "normal" or "anomaly"; mask empty for normal images). VisA names no defect types: anomalous samples
/// get defectType "anomaly".
public struct VisADataset: DatasetReader {
    public let root: String

    public init(root: String) { self.root = root }

    public var listPath: String { FileTree.join(root, "split_csv", "1cls.csv") }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        try FileTree.requireRoot(root)
        guard FileTree.isFile(listPath) else { throw DatasetError.missingFile(path: listPath, what: "VisA split list") }
        let data = try ListDataset.contents(listPath)
        let table = try CSVTable(text: String(decoding: data, as: UTF8.self), path: listPath)
        var columns = [Int]()
        for name in ["object", "split", "label", "image", "mask"] {
            guard let c = table.column(name) else {
                throw DatasetError.badList(path: listPath, line: 1, reason: "missing column '\(name)'")
            }
            columns.append(c)
        }
        var all = [String: [DatasetSample]]()
        for (line, fields) in table.rows {
            guard fields.count == table.header.count else {
                throw DatasetError.badList(path: listPath, line: line,
                                           reason: "\(fields.count) fields, header has \(table.header.count)")
            }
            let object = fields[columns[0]], rowSplit = fields[columns[1]], label = fields[columns[2]]
            let image = fields[columns[3]], mask = fields[columns[4]]
            if all[object] == nil { all[object] = [] }  // every object is a class, even without rows in this split
            guard rowSplit == split.rawValue else { continue }
            let anomalous: Bool
            switch label.lowercased() {
            case "normal": anomalous = false
            case "anomaly": anomalous = true
            default: throw DatasetError.badList(path: listPath, line: line, reason: "label '\(label)' is not normal/anomaly")
            }
            let imagePath = FileTree.join(root, image)
            guard FileTree.isFile(imagePath) else { throw DatasetError.missingFile(path: imagePath, what: "image") }
            var maskPath: String?
            if anomalous && !mask.isEmpty {
                let m = FileTree.join(root, mask)
                guard FileTree.isFile(m) else { throw DatasetError.missingFile(path: m, what: "mask of \(imagePath)") }
                maskPath = m
            }
            all[object, default: []].append(DatasetSample(imagePath: imagePath, maskPath: maskPath, label: anomalous,
                                                          defectType: anomalous ? "anomaly" : "good",
                                                          className: object))
        }
        let names = try FileTree.select(Array(all.keys), requested: classes, root: root, layout: "visa")
        var out = [String: [DatasetSample]]()
        for name in names {
            let samples = (all[name] ?? []).sorted { $0.imagePath < $1.imagePath }
            guard !samples.isEmpty else {
                throw DatasetError.emptySplit(split: split.rawValue, path: "\(listPath) (object \(name))")
            }
            out[name] = samples
        }
        return out
    }
}
