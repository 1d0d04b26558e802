/// The Magnetic-Tile defect dataset (Huang, Qiu, Yuan 2020): `MT_<kind>/Imgs/<name>.jpg` with mask
/// `MT_<kind>/Imgs/<name>.png`; `MT_Free` is anomaly-free, every other kind is a defect type (lower-cased,
/// e.g. "blowhole"). One class named after the root folder. Train split: the first `trainNormals` MT_Free
/// images in sorted order; test split: the remaining MT_Free images, then every defect image.
/// `classes` may also name defect kinds (`MT_Fray`): each becomes a class of its own, the test normals plus that
/// kind's images (the full class reports every kind in its per-defect-type table anyway).
public struct MagneticTileDataset: DatasetReader {
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
        let kinds = try FileTree.subdirectories(root).filter { $0.hasPrefix("MT_") }
        guard kinds.contains("MT_Free") else {
            throw DatasetError.missingFile(path: FileTree.join(root, "MT_Free"), what: "normal image folder")
        }
        let defectKinds = kinds.filter { $0 != "MT_Free" }.sorted()
        for requested in classes ?? [] where requested != name && !defectKinds.contains(requested) {
            throw DatasetError.missingClass(name: requested, root: root, known: [name] + defectKinds,
                                            note: "'\(name)' holds every kind, reported per defect type in report.html; a kind alone is its test normals plus its images")
        }
        let wanted = classes.map { Array(Set($0)).sorted() } ?? [name]
        var result: [String: [DatasetSample]] = [:]
        for className in wanted {
            result[className] = try samples(split: split, kinds: className == name ? defectKinds : [className], name: className)
        }
        return result
    }

    /// The normal images of `split` plus (test split) the images of each defect kind in `kinds`, as class `name`.
    func samples(split: DatasetSplit, kinds: [String], name: String) throws -> [DatasetSample] {
        func images(_ kind: String) throws -> [String] {
            try FileTree.images(in: FileTree.join(root, kind, "Imgs")).filter { FileTree.fileExtension($0) != "png" }
        }
        let free = try images("MT_Free")
        var samples = [DatasetSample]()
        switch split {
        case .train:
            samples = free.prefix(trainNormals).map {
                DatasetSample(imagePath: $0, maskPath: nil, label: false, defectType: "good", className: name)
            }
        case .test:
            samples = free.dropFirst(trainNormals).map {
                DatasetSample(imagePath: $0, maskPath: nil, label: false, defectType: "good", className: name)
            }
            for kind in kinds {
                let defect = String(kind.dropFirst(3)).lowercased()
                for image in try images(kind) {
                    let mask = FileTree.join(FileTree.parent(image), FileTree.stem(image) + ".png")
                    guard FileTree.isFile(mask) else {
                        throw DatasetError.missingFile(path: mask, what: "mask of \(image)")
                    }
                    samples.append(DatasetSample(imagePath: image, maskPath: mask, label: true, defectType: defect,
                                                 className: name))
                }
            }
        }
        guard !samples.isEmpty else {
            throw DatasetError.emptySplit(split: split.rawValue, path: FileTree.join(root, "MT_Free", "Imgs"))
        }
        return samples
    }
}
