/// MVTec LOCO AD: `<class>/train/good/*.png`, `<class>/test/<defect>/000.png`; each anomalous image's ground
/// truth is a folder `<class>/ground_truth/<defect>/000/` of one or more PNGs (one per defect instance).
/// `maskPath` is that folder; `DatasetSample.loadMask` merges its PNGs by pixel-wise maximum, so a pixel is a
/// defect when any instance mask marks it.
public struct MVTecLOCODataset: DatasetReader {
    public let root: String

    public init(root: String) { self.root = root }

    public func classNames() throws -> [String] {
        try MVTecADDataset(root: root).classNames()
    }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        let names = try FileTree.select(try classNames(), requested: classes, root: root, layout: "mvtec-loco")
        var out = [String: [DatasetSample]]()
        for name in names {
            out[name] = try MVTecStyle.samples(classRoot: FileTree.join(root, name), className: name, split: split,
                                               imageFolder: nil) { defect, image in
                FileTree.join(root, name, "ground_truth", defect, FileTree.stem(image))
            }
        }
        return out
    }
}
