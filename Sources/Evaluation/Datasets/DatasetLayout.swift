/// Lists a dataset's samples by class.
public protocol DatasetReader: Sendable {
    /// Samples of `split` keyed by class name (`classes` nil = every class), each list in sorted path order.
    func samples(split: DatasetSplit, classes: [String]?) throws -> [String: [DatasetSample]]
}

/// The on-disk layouts ClipAD reads (see docs/METRICS.md, "Dataset layouts").
public enum DatasetLayout: String, CaseIterable, Sendable {
    case mvtec
    case visa
    case mvtecLOCO = "mvtec-loco"
    case mvtec3D = "mvtec-3d"
    case folder
    case list
    case magneticTile = "magnetic-tile"

    /// Parses a layout name (as given on the command line); unknown names are a `DatasetError.unknownLayout`.
    public init(name: String) throws {
        guard let layout = DatasetLayout(rawValue: name.lowercased()) else { throw DatasetError.unknownLayout(name) }
        self = layout
    }

    /// The reader for a dataset at `root` (for `.list`, `root` is the CSV/JSONL file). `trainNormals` is the
    /// number of leading (sorted) normal images that form the train split of layouts without one
    /// (magnetic-tile, folder without `train/`).
    public func reader(root: String, trainNormals: Int = 0) -> any DatasetReader {
        switch self {
        case .mvtec: return MVTecADDataset(root: root)
        case .visa: return VisADataset(root: root)
        case .mvtecLOCO: return MVTecLOCODataset(root: root)
        case .mvtec3D: return MVTec3DDataset(root: root)
        case .folder: return FolderDataset(root: root, trainNormals: trainNormals)
        case .list: return ListDataset(path: root)
        case .magneticTile: return MagneticTileDataset(root: root, trainNormals: trainNormals)
        }
    }
}

extension DatasetReader {
    /// Samples of every class.
    public func samples(split: DatasetSplit) throws -> [String: [DatasetSample]] {
        try samples(split: split, classes: nil)
    }
}
