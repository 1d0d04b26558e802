/// MVTec AD: `<class>/train/good/*.png`, `<class>/test/<defect>/*.png`,
/// masks `<class>/ground_truth/<defect>/<stem>_mask.png` (none for `good`).
public struct MVTecADDataset: DatasetReader {
    public let root: String

    public init(root: String) { self.root = root }

    /// Class folders: those with a `test` or `train` subfolder, sorted.
    public func classNames() throws -> [String] {
        try FileTree.requireRoot(root)
        return try FileTree.subdirectories(root).filter {
            FileTree.isDirectory(FileTree.join(root, $0, "test")) || FileTree.isDirectory(FileTree.join(root, $0, "train"))
        }
    }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        let names = try FileTree.select(try classNames(), requested: classes, root: root, layout: "mvtec")
        var out = [String: [DatasetSample]]()
        for name in names {
            out[name] = try MVTecStyle.samples(classRoot: FileTree.join(root, name), className: name, split: split,
                                               imageFolder: nil) { defect, image in
                FileTree.join(root, name, "ground_truth", defect, FileTree.stem(image) + "_mask.png")
            }
        }
        return out
    }
}

/// The `train/good` + `test/<defect>` walk shared by MVTec AD, LOCO and 3D-AD.
enum MVTecStyle {
    /// `imageFolder` is a subfolder inside each defect folder holding the images (3D-AD: "rgb").
    /// `maskPath(defect, imagePath)` gives the mask of an anomalous image; it must exist.
    static func samples(classRoot: String, className: String, split: DatasetSplit, imageFolder: String?,
                        maskPath: (String, String) -> String) throws -> [DatasetSample] {
        let splitRoot = FileTree.join(classRoot, split.rawValue)
        guard FileTree.isDirectory(splitRoot) else { throw DatasetError.emptySplit(split: split.rawValue, path: splitRoot) }
        let defects = split == .train ? ["good"] : try FileTree.subdirectories(splitRoot)
        var samples = [DatasetSample]()
        for defect in defects {
            var folder = FileTree.join(splitRoot, defect)
            if let imageFolder { folder = FileTree.join(folder, imageFolder) }
            guard FileTree.isDirectory(folder) else {
                if split == .train { throw DatasetError.emptySplit(split: split.rawValue, path: folder) }
                continue
            }
            let anomalous = defect != "good"
            for image in try FileTree.images(in: folder) {
                var mask: String?
                if anomalous {
                    let m = maskPath(defect, image)
                    guard FileTree.isFile(m) || FileTree.isDirectory(m) else {
                        throw DatasetError.missingFile(path: m, what: "ground-truth mask of \(image)")
                    }
                    mask = m
                }
                samples.append(DatasetSample(imagePath: image, maskPath: mask, label: anomalous, defectType: defect,
                                             className: className))
            }
        }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(split: split.rawValue, path: splitRoot) }
        return samples
    }
}
