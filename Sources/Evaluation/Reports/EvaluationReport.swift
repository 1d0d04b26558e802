import Foundation

/// The seven numbers ClipAD reports per class, as fractions in [0, 1]; nil where a metric is undefined
/// (e.g. pixel metrics for a class without masks, AUROC without both classes).
public struct ClassMetrics: Sendable, Equatable {
    public var imageAUROC: Double?
    public var imageAP: Double?
    public var imageF1Max: Double?
    public var pixelAUROC: Double?
    public var pixelAP: Double?
    public var pixelF1Max: Double?
    public var pixelAUPRO: Double?

    public init(imageAUROC: Double? = nil, imageAP: Double? = nil, imageF1Max: Double? = nil,
                pixelAUROC: Double? = nil, pixelAP: Double? = nil, pixelF1Max: Double? = nil,
                pixelAUPRO: Double? = nil) {
        self.imageAUROC = imageAUROC
        self.imageAP = imageAP
        self.imageF1Max = imageF1Max
        self.pixelAUROC = pixelAUROC
        self.pixelAP = pixelAP
        self.pixelF1Max = pixelF1Max
        self.pixelAUPRO = pixelAUPRO
    }

    /// JSON/CSV key and value of each metric, in report order.
    public var fields: [(key: String, value: Double?)] {
        [("image_auroc", imageAUROC), ("image_ap", imageAP), ("image_f1_max", imageF1Max),
         ("pixel_auroc", pixelAUROC), ("pixel_ap", pixelAP), ("pixel_f1_max", pixelF1Max),
         ("pixel_aupro", pixelAUPRO)]
    }

    public static let keys = ClassMetrics().fields.map(\.key)

    /// Per-metric mean over the classes where it is defined (nil where no class has it).
    public static func mean(_ all: [ClassMetrics]) -> ClassMetrics {
        func m(_ path: KeyPath<ClassMetrics, Double?>) -> Double? {
            let v = all.compactMap { $0[keyPath: path] }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        return ClassMetrics(imageAUROC: m(\.imageAUROC), imageAP: m(\.imageAP), imageF1Max: m(\.imageF1Max),
                            pixelAUROC: m(\.pixelAUROC), pixelAP: m(\.pixelAP), pixelF1Max: m(\.pixelF1Max),
                            pixelAUPRO: m(\.pixelAUPRO))
    }
}

/// One overlay picture of a report: which image, why it was picked, and the PNG file written.
public struct OverlayEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case worst, best }
    public var kind: Kind
    public var imagePath: String
    public var label: Bool
    public var score: Float
    /// Path of the PNG (image | ground truth | map | thresholded mask).
    public var file: String

    public init(kind: Kind, imagePath: String, label: Bool, score: Float, file: String) {
        self.kind = kind
        self.imagePath = imagePath
        self.label = label
        self.score = score
        self.file = file
    }
}

/// One test image in the report's gallery; paths are relative to the report's folder.
public struct GalleryEntry: Sendable, Equatable {
    public var imagePath: String
    public var defectType: String
    public var label: Bool
    public var score: Float
    /// Label from the class's image threshold; nil without one.
    public var predicted: Bool?
    public var overlay: String?
    public var thumbnail: String?
    public var thumbnailWidth = 0
    public var thumbnailHeight = 0

    public init(imagePath: String, defectType: String, label: Bool, score: Float, predicted: Bool?) {
        self.imagePath = imagePath
        self.defectType = defectType
        self.label = label
        self.score = score
        self.predicted = predicted
    }

    public var misclassified: Bool { predicted.map { $0 != label } ?? false }
}

/// Metrics of one defect type of a class (normal images + that type's anomalous ones); F1 and AUPRO left nil.
public struct DefectTypeResult: Sendable, Equatable {
    public var name: String
    public var images: Int
    public var anomalous: Int
    /// Anomalous images of this type the image threshold catches; nil without a threshold.
    public var detected: Int?
    public var metrics: ClassMetrics

    public init(name: String, images: Int, anomalous: Int, detected: Int?, metrics: ClassMetrics) {
        self.name = name
        self.images = images
        self.anomalous = anomalous
        self.detected = detected
        self.metrics = metrics
    }
}

/// One class's outcome.
public struct ClassResult: Sendable, Equatable {
    public var name: String
    /// Images scored, of which anomalous.
    public var images: Int
    public var anomalous: Int
    /// Images skipped (unreadable or without a prediction).
    public var skipped: Int
    public var metrics: ClassMetrics
    /// Why a metric is missing (one line each), e.g. "pixel: no defect pixel".
    public var notes: [String]
    public var pixelThreshold: Float?
    /// Where `pixelThreshold` comes from: "calibrated" or "f1-max".
    public var pixelThresholdSource = "f1-max"
    /// Worst and best cases (files shared with the gallery).
    public var overlays: [OverlayEntry]
    /// The threshold images are labelled with, and where it puts the class on its curves.
    public var imageThreshold: ImageThreshold?
    public var imageOperatingPoint: OperatingPoint?
    public var pixelOperatingPoint: OperatingPoint?
    /// The curves the report draws (nil where a class lacks normal or anomalous samples / pixels).
    public var imageCurve: ScoreCurve?
    public var pixelCurve: ScoreCurve?
    /// Metrics per defect type: the class's normal images with that type's anomalous ones.
    public var defectTypes: [DefectTypeResult] = []
    /// Every scored image, in dataset order.
    public var gallery: [GalleryEntry] = []
    /// The colour rule and range of the class's overlays (`per-image` ranges differ per picture).
    public var colorScale: ColorScale?
    public var colorRange: ClosedRange<Float>?

    public init(name: String, images: Int, anomalous: Int, skipped: Int = 0, metrics: ClassMetrics,
                notes: [String] = [], pixelThreshold: Float? = nil, overlays: [OverlayEntry] = []) {
        self.name = name
        self.images = images
        self.anomalous = anomalous
        self.skipped = skipped
        self.metrics = metrics
        self.notes = notes
        self.pixelThreshold = pixelThreshold
        self.overlays = overlays
    }
}

/// Everything `clipad eval` / `clipad metrics` report: the method, its settings, and per-class results.
public struct EvaluationReport: Sendable, Equatable {
    public var method: String
    /// Settings in the order they are shown (checkpoint paths, image size, dataset, PRO mode, ...).
    public var settings: [(key: String, value: String)]
    public var classes: [ClassResult]

    public init(method: String, settings: [(key: String, value: String)], classes: [ClassResult]) {
        self.method = method
        self.settings = settings
        self.classes = classes
    }

    public var mean: ClassMetrics { ClassMetrics.mean(classes.map(\.metrics)) }

    public static func == (a: EvaluationReport, b: EvaluationReport) -> Bool {
        a.method == b.method && a.classes == b.classes
            && a.settings.map(\.key) == b.settings.map(\.key) && a.settings.map(\.value) == b.settings.map(\.value)
    }
}
