import Checkpoint
import Evaluation
import Foundation
import ImageIO

/// `clipad demo`'s run: ten generated parts (4 normal, 6 with a scratch, stain or hole, with their masks) through a
/// detector, end to end: the images, each map (`<name>.npy`) and `scores.jsonl`, an overlay per image coloured by
/// the evaluation's rule, and the image and pixel metrics.
public enum SyntheticDemo {
    public static let defects: [SyntheticDefectImages.Defect] = [.none, .none, .none, .none, .scratch, .stain, .hole, .scratch, .stain, .hole]

    public struct Result: Sendable {
        public var images: Int
        public var defective: Int
        public var image: ImageMetrics
        public var pixel: PixelMetrics
    }

    public static func run(detector: any Detector, output: String, colorScale: ColorScale) throws -> Result {
        let side = detector.mapSide
        let generator = SyntheticDefectImages(size: 256)
        let imageDir = (output as NSString).appendingPathComponent("images")
        let overlayDir = (output as NSString).appendingPathComponent("overlays")
        for dir in [imageDir, overlayDir] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let writer = try PredictionWriter(directory: output, mapFormat: .npy)
        var scores: [Float] = [], labels: [Bool] = [], pixelSamples: [PixelSample] = []

        // Predict each image, write its map and score; overlays after, once the class's colour range is known.
        var shown: [(name: String, image: Image, map: PixelSample, score: Float, anomalous: Bool)] = []
        for (i, defect) in defects.enumerated() {
            let sample = generator.sample(index: i, defect: defect)
            let name = String(format: "%02d_%@", i, defect.rawValue)
            let image = Image(width: sample.size, height: sample.size, channels: 3, pixels: sample.rgb)
            let imagePath = (imageDir as NSString).appendingPathComponent("\(name).png")
            try ImageEncoder.write(image, to: imagePath)
            let result = try detector.predict(image, name: imagePath)
            try writer.writeMap(result.map, height: side, width: side, stem: name)
            writer.record(image: imagePath, score: result.score, map: "\(name).npy", extra: [("defect", jsonString(defect.rawValue))])
            let mask = PillowResize.nearest(Image(width: sample.size, height: sample.size, channels: 1, pixels: sample.mask),
                                            width: side, height: side)
            scores.append(result.score)
            labels.append(defect != .none)
            let pixelSample = try PixelSample(width: side, height: side, scores: result.map, mask: mask.pixels)
            pixelSamples.append(pixelSample)
            shown.append((name, image, pixelSample, result.score, defect != .none))
        }
        // The same rule as eval: per-class spans the ten maps, fixed the method's natural range.
        let classRange = ColorScale.span(pixelSamples.map(\.scores))
        for s in shown {
            let range = colorScale.range(of: s.map.scores, classRange: classRange, natural: detector.naturalMapRange)
            let header = OverlayPanel.header(score: s.score, imageThreshold: nil, truth: s.anomalous, pixelThreshold: nil)
            let panel = OverlayPanel.compose(image: s.image, map: s.map, range: range, scale: colorScale, threshold: nil, header: header)
            try ImageEncoder.write(panel.picture, to: (overlayDir as NSString).appendingPathComponent("\(s.name).png"))
        }
        try writer.finish()
        return Result(images: defects.count, defective: labels.filter { $0 }.count,
                      image: try ImageMetrics.compute(scores: scores, labels: labels),
                      pixel: try PixelMetrics.compute(pixelSamples, proMode: .mvtec))
    }
}
