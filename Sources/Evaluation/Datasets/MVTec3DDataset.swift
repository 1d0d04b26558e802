/// MVTec 3D-AD, RGB only: `<class>/train/good/rgb/*.png`, `<class>/test/<defect>/rgb/*.png`, masks
/// `<class>/test/<defect>/gt/<same name>.png`. (The xyz point clouds are not read.)
public struct MVTec3DDataset: DatasetReader {
    public let root: String

    public init(root: String) { self.root = root }

    public func classNames() throws -> [String] {
        try MVTecADDataset(root: root).classNames()
    }

    public func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]] {
        let names = try FileTree.select(try classNames(), requested: classes, root: root, layout: "mvtec-3d")
        var out = [String: [DatasetSample]]()
        for name in names {
            out[name] = try MVTecStyle.samples(classRoot: FileTree.join(root, name), className: name, split: split,
                                               imageFolder: "rgb") { _, image in
                FileTree.join(FileTree.parent(FileTree.parent(image)), "gt", FileTree.lastComponent(image))
            }
        }
        return out
    }
}
