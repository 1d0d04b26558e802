import Dispatch
import Evaluation
import ImageIO
import Tensor

/// Vision features of a class's test images, computed by the first detector that asks and re-scored by every later
/// detector with the same `featureKey` (the seeded few-shot protocol: one encoding per test image, one cheap scoring
/// per seed). Detectors without the encode/score split (`FeatureScoring`) run their whole forward pass each time.
/// Held in memory: clear it between classes.
public final class TestFeatureCache {
    struct Entry {
        var features: EncodedImages
        var width: Int
        var height: Int
    }

    private var entries: [String: Entry] = [:]
    /// Images encoded, and predictions served from features already encoded.
    public private(set) var encodings = 0
    public private(set) var reuses = 0
    /// Time spent decoding + encoding, and scoring (seconds, summed).
    public private(set) var encodeSeconds = 0.0
    public private(set) var scoreSeconds = 0.0
    let context: ExecutionContext

    public init(context: ExecutionContext = .shared) { self.context = context }

    /// The detector's prediction for one image, encoding it only if no detector with the same feature key has.
    public func prediction(for imagePath: String, detector: any Detector) throws -> MapPrediction {
        guard let scoring = detector as? any FeatureScoring else {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { encodeSeconds += Self.seconds(since: start) }
            return try detector.predict(try ImageDecoder.decodeRGB(path: imagePath), name: imagePath).mapPrediction
        }
        let key = scoring.featureKey + "\u{0}" + imagePath
        var entry: Entry
        if let hit = entries[key] {
            entry = hit
            reuses += 1
        } else {
            let start = DispatchTime.now().uptimeNanoseconds
            let image = try ImageDecoder.decodeRGB(path: imagePath)
            try scoring.preprocessor.validate(image)
            let pixels = scoring.preprocessor.batch([image])
            entry = Entry(features: try context.run { try scoring.encode(pixels) }, width: image.width, height: image.height)
            entries[key] = entry
            encodings += 1
            encodeSeconds += Self.seconds(since: start)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { scoreSeconds += Self.seconds(since: start) }
        let output = try context.run { try scoring.score(entry.features) }
        let s = scoring.mapSide
        let map = Array(UnsafeBufferPointer(start: output.maps.data, count: s * s))
        guard let score = output.scores.first, score.isFinite, map.allSatisfy(\.isFinite) else {
            throw DetectionError.nonFiniteScore(image: imagePath)
        }
        return MapPrediction(map: map, width: s, height: s, score: score, imageSize: (entry.width, entry.height))
    }

    /// Drops every cached feature (the next class's images are others).
    public func removeAll() { entries.removeAll() }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
