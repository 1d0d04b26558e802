import AnomalyCLIP
import CLIP
import Evaluation

/// What `clipad train --method anomalyclip` needs besides the trainer itself, as library calls: the configuration
/// (the backbone's defaults, then the user's overrides) and the training examples read from an auxiliary dataset.
public enum AnomalyCLIPTraining {
    /// The backbone's defaults (`MethodDefaults`) with each non-nil override applied.
    public static func configuration(model: CLIPModel, imageSize: Int? = nil, featureLayers: [Int]? = nil, dpamBlocks: Int? = nil,
                                     defaults: MethodDefaults = .shared) -> AnomalyCLIPConfiguration {
        var config = defaults.anomalyCLIPConfiguration(model: model)
        if let imageSize { config.imageSize = imageSize }
        if let featureLayers { config.featureLayers = featureLayers }
        if let dpamBlocks { config.dpamBlocks = dpamBlocks }
        return config
    }

    /// Every labelled test image (with its mask) of the chosen classes, class by class in name order. The official
    /// training uses a dataset's test split: it is the only split with anomalies and masks. An unknown class is the
    /// reader's error (it lists the valid ones); no images at all is an error naming the root.
    public static func examples(layout: DatasetLayout, root: String, classes: [String]? = nil) throws -> [AnomalyCLIPTrainer.Example] {
        let byClass = try layout.reader(root: root).samples(split: .test, classes: classes)
        let examples = byClass.keys.sorted().flatMap { name in
            byClass[name]!.map { AnomalyCLIPTrainer.Example(imagePath: $0.imagePath, maskPath: $0.maskPath, label: $0.label) }
        }
        guard !examples.isEmpty else { throw DetectionError.unreadableFile(path: root, reason: "no labelled test images to train on") }
        return examples
    }
}
