/// A folder dataset, one class named after its root folder:
/// `normal/*` anomaly-free images, `abnormal/*` anomalous images (or `abnormal/<defect>/*`, the subfolder
/// naming the defect type; images directly in `abnormal/` get "abnormal"), optional masks
/// `masks/<stem>.png` (or `masks/<defect>/<stem>.png`). Train split: `train/` (or `train/good/`) when present,
/// else the first `trainNormals` images of `normal/`, which the test split then leaves out.
public struct FolderDataset: DatasetReader {
    public let root: String
    public let trainNormals: Int

    public init(root: String, trainNormals: Int = 0) {
        self.root = root
        self.trainNormals = max(0, trainNormals)
    }

    public var className: String { FileTree.lastComponent(root) }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        try FileTree.requireRoot(root)
        let name = className
        _ = try FileTree.select([name], requested: classes, root: root, layout: "folder")
        let normalDir = FileTree.join(root, "normal")
        let normals = FileTree.isDirectory(normalDir) ? try FileTree.images(in: normalDir) : []
        var trainDir = FileTree.join(root, "train")
        if FileTree.isDirectory(FileTree.join(trainDir, "good")) { trainDir = FileTree.join(trainDir, "good") }
        let hasTrainDir = FileTree.isDirectory(trainDir)

        func normal(_ path: String) -> DatasetSample {
            DatasetSample(imagePath: path, maskPath: nil, label: false, defectType: "good", className: name)
        }
        var samples = [DatasetSample]()
        switch split {
        case .train:
            let paths = hasTrainDir ? try FileTree.images(in: trainDir) : Array(normals.prefix(trainNormals))
            samples = paths.map(normal)
            guard !samples.isEmpty else {
                throw DatasetError.emptySplit(split: "train", path: hasTrainDir ? trainDir : normalDir)
            }
        case .test:
            samples = normals.dropFirst(hasTrainDir ? 0 : trainNormals).map(normal)
            let abnormalDir = FileTree.join(root, "abnormal")
            if FileTree.isDirectory(abnormalDir) {
                var groups = [("abnormal", abnormalDir)]
                groups += try FileTree.subdirectories(abnormalDir).map { ($0, FileTree.join(abnormalDir, $0)) }
                for (defect, dir) in groups {
                    for image in try FileTree.images(in: dir) {
                        samples.append(DatasetSample(imagePath: image, maskPath: mask(for: image, defect: defect),
                                                     label: true, defectType: defect, className: name))
                    }
                }
            }
            guard !samples.isEmpty else { throw DatasetError.emptySplit(split: "test", path: root) }
        }
        return [name: samples]
    }

    /// `masks/<defect>/<stem>.png` or `masks/<stem>.png`, if either exists.
    func mask(for image: String, defect: String) -> String? {
        let stem = FileTree.stem(image) + ".png"
        let candidates = [FileTree.join(root, "masks", defect, stem), FileTree.join(root, "masks", stem)]
        return candidates.first(where: FileTree.isFile)
    }
}
