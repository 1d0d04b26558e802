import CLIP
import Dispatch
import Evaluation
import ImageIO
import Tensor

/// One loaded, runnable detector: the face every method shows to the CLI, the server and tests.
/// Build one with `DetectorFactory.make`; call `predict` with decoded images of any size, in batches of any size.
public protocol Detector: AnyObject, Sendable {
    /// What runs, every field resolved (paths, sizes, layers, shots, thresholds).
    var spec: DetectorSpec { get }
    /// Resize and normalisation of the model's input.
    var preprocessor: ImagePreprocessor { get }
    /// Side of the square output map.
    var mapSide: Int { get }
    /// The range a map value can take, from the method's definition (for a fixed colour scale).
    var naturalMapRange: ClosedRange<Float> { get }
    /// Normal images the detector learned from (shots), to keep out of calibration and evaluation.
    var learnedImages: [String] { get }
    /// Thresholds in force (from the model file, a thresholds file, or the spec), checked against this detector.
    var thresholds: CalibratedThresholds? { get }
    /// What a report records about the run, in order.
    var settings: [(key: String, value: String)] { get }

    /// The method itself: pixels [B, 3, S, S] -> per image score, grid map and output map.
    func forward(_ pixels: Tensor) throws -> MethodOutput

    /// Writes the model file with `thresholds` to `path`; false when the method has no model file (WinCLIP).
    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool
}

/// The factory's hook for the thresholds it checked: a copy of the adapter that carries them (in `thresholds` and in
/// its spec), so every adapter stays immutable once built and is Sendable without being unchecked.
protocol Calibratable {
    func calibrated(_ thresholds: CalibratedThresholds) -> any Detector
}

/// A method's raw result for a batch.
public struct MethodOutput {
    public var scores: [Float]
    /// [B, g, g]
    public var gridMaps: Tensor
    /// [B, S, S]
    public var maps: Tensor

    public init(scores: [Float], gridMaps: Tensor, maps: Tensor) {
        self.scores = scores
        self.gridMaps = gridMaps
        self.maps = maps
    }
}

extension Detector {
    /// What thresholds calibrated on this detector are tied to.
    public var identity: DetectorIdentity {
        DetectorIdentity(method: spec.method, className: spec.className, clipFingerprint: spec.clipFingerprint,
                         imageSize: preprocessor.size, mapSize: mapSide, shotCount: learnedImages.count, layers: spec.layers)
    }

    /// Scores decoded images; the forward pass runs in the process's execution context (one caller at a time on all
    /// cores). A non-finite score is an error naming the image (`names`, else its index).
    public func predict(_ images: [Image], names: [String]? = nil, context: ExecutionContext = .shared) throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let start = DispatchTime.now().uptimeNanoseconds
        for image in images { try preprocessor.validate(image) }
        let pixels = preprocessor.batch(images)
        return try predict(pixels: pixels, imageSizes: images.map { (width: $0.width, height: $0.height) }, names: names, context: context,
                           preprocessSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Scores pixels already resized and normalised as `preprocessor` does: [B, 3, S, S] with S = `preprocessor.size`
    /// (a serving client that preprocesses itself). `imageSizes` are the original sizes, when known (else S x S).
    public func predict(pixels: Tensor, imageSizes: [(width: Int, height: Int)]? = nil, names: [String]? = nil,
                        context: ExecutionContext = .shared, preprocessSeconds: Double = 0) throws -> [Prediction] {
        let size = preprocessor.size
        guard pixels.shape.count == 4, pixels.shape[0] >= 1, Array(pixels.shape.dropFirst()) == [3, size, size] else {
            throw DetectionError.badPixels(shape: pixels.shape, expected: [-1, 3, size, size])
        }
        let prepared = DispatchTime.now().uptimeNanoseconds
        var computeStart = prepared
        let output = try context.run { () throws -> MethodOutput in
            computeStart = DispatchTime.now().uptimeNanoseconds
            return try forward(pixels)
        }
        let done = DispatchTime.now().uptimeNanoseconds
        let n = pixels.shape[0], g = output.gridMaps.shape[1], s = mapSide
        let limits = thresholds?.thresholds
        return try (0..<n).map { i in
            let score = output.scores[i]
            let map = Array(UnsafeBufferPointer(start: output.maps.data + i * s * s, count: s * s))
            guard score.isFinite, map.allSatisfy(\.isFinite) else {
                throw DetectionError.nonFiniteScore(image: names?[i] ?? "image \(i + 1) of the batch")
            }
            return Prediction(
                score: score, gridMap: Array(UnsafeBufferPointer(start: output.gridMaps.data + i * g * g, count: g * g)),
                gridSide: g, map: map, mapSide: s, imageWidth: imageSizes?[i].width ?? size, imageHeight: imageSizes?[i].height ?? size,
                label: limits.map { score > $0.image ? 1 : 0 }, thresholds: limits,
                timings: .init(preprocessSeconds: preprocessSeconds / Double(n),
                               computeSeconds: Double(done - computeStart) / 1e9 / Double(n),
                               waitSeconds: Double(computeStart - prepared) / 1e9))
        }
    }

    /// One image.
    public func predict(_ image: Image, name: String? = nil) throws -> Prediction {
        try predict([image], names: name.map { [$0] })[0]
    }

    /// The image as the map sees it (resized to the map side), for overlays.
    public func overlayBase(_ image: Image) -> Image {
        PillowResize.resize(image.rgb(), width: mapSide, height: mapSide)
    }
}
