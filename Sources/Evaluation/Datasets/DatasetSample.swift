/// One image of a dataset split: where it is, its ground truth, and where it belongs.
public struct DatasetSample: Sendable, Equatable, Hashable {
    /// Path of the image file.
    public var imagePath: String
    /// Path of the mask PNG, or (MVTec LOCO) of a folder of mask PNGs to merge; nil when there is no mask
    /// (anomaly-free images, or a defect without pixel ground truth).
    public var maskPath: String?
    /// true = anomalous.
    public var label: Bool
    /// "good" for anomaly-free images, else the dataset's defect name.
    public var defectType: String
    public var className: String

    public init(imagePath: String, maskPath: String?, label: Bool, defectType: String, className: String) {
        self.imagePath = imagePath
        self.maskPath = maskPath
        self.label = label
        self.defectType = defectType
        self.className = className
    }
}

/// Which part of a dataset to list.
public enum DatasetSplit: String, CaseIterable, Sendable {
    /// Anomaly-free training images (MVTec `train/good`), e.g. few-shot references.
    case train
    /// The evaluation images, normal and anomalous.
    case test
}
