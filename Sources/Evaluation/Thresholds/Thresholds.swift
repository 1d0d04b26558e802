import FileAccess
import Foundation

/// An image threshold and a pixel threshold chosen on NORMAL images only, so that at most the target fraction of
/// those normals (images, or pixels) is called anomalous. Rule: anomalous iff score > threshold. With n normal scores
/// and m = floor(target · n) allowed false positives, the threshold is the (m + 1)-th largest normal score: at most m
/// normals lie strictly above it (fewer when it is tied), so the false-positive rate on the calibration set is
/// <= target — the exact order statistic, no interpolation.
public struct Thresholds: Codable, Equatable, Sendable {
    public var image: Float
    public var pixel: Float
    /// The requested false-positive rate.
    public var targetFPR: Double
    /// The false-positive rates reached on the calibration normals.
    public var imageFPR: Double
    public var pixelFPR: Double
    public var normalImages: Int
    public var method: String

    enum CodingKeys: String, CodingKey {
        case image = "image_threshold", pixel = "pixel_threshold", targetFPR = "target_fpr", imageFPR = "image_fpr"
        case pixelFPR = "pixel_fpr", normalImages = "normal_images", method
    }

    public init(image: Float, pixel: Float, targetFPR: Double, imageFPR: Double, pixelFPR: Double, normalImages: Int, method: String) {
        self.image = image
        self.pixel = pixel
        self.targetFPR = targetFPR
        self.imageFPR = imageFPR
        self.pixelFPR = pixelFPR
        self.normalImages = normalImages
        self.method = method
    }

    public struct CalibrationError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The allowed false positives among n normals, floor(target · n).
    static func allowed(_ n: Int, _ target: Double) -> Int { Int((target * Double(n)).rounded(.down)) }

    /// A streaming calibrator for one kind of score (image scores, or every pixel of every map), given at most how
    /// many values will come: holds only the floor(target · n) + 1 largest.
    public struct Calibrator {
        public let targetFPR: Double
        var top: LargestValues

        public init(maximumCount: Int, targetFPR: Double) throws {
            guard targetFPR > 0 && targetFPR < 1 else {
                throw CalibrationError(description: "the target false-positive rate must be in (0, 1), got \(targetFPR)")
            }
            self.targetFPR = targetFPR
            top = LargestValues(k: Thresholds.allowed(max(maximumCount, 1), targetFPR) + 1)
        }

        public mutating func add(_ values: [Float]) {
                top.add(values)
        }

        public var count: Int { top.seen }

        /// The threshold and the false-positive rate it gives on all the values seen.
        public mutating func result() throws -> (threshold: Float, fpr: Double) {
            let n = top.seen
            guard n > 0 else { throw CalibrationError(description: "no normal scores to calibrate on") }
            let rank = Thresholds.allowed(n, targetFPR) + 1
            guard rank <= top.k, let t = top.largest(rank) else {
                throw CalibrationError(description: "saw \(n) values, more than the \(top.k - 1) false positives planned for")
            }
            return (t, Double(top.count(above: t)) / Double(n))
        }
    }

    /// The threshold for one set of normal scores and the rate it reaches.
    public static func threshold(normalScores: [Float], targetFPR: Double) throws -> (threshold: Float, fpr: Double) {
        var c = try Calibrator(maximumCount: normalScores.count, targetFPR: targetFPR)
        c.add(normalScores)
        return try c.result()
    }

    // MARK: - Storage

    /// As string metadata (safetensors header): `threshold.<key>` entries.
    public var metadata: [String: String] {
        [
            "threshold.image": "\(image)", "threshold.pixel": "\(pixel)", "threshold.target_fpr": "\(targetFPR)",
            "threshold.image_fpr": "\(imageFPR)", "threshold.pixel_fpr": "\(pixelFPR)",
            "threshold.normal_images": "\(normalImages)", "threshold.method": method,
        ]
    }

    /// From metadata written by `metadata`; nil when the file has no thresholds.
    public init?(metadata m: [String: String]) {
        guard let image = m["threshold.image"].flatMap(Float.init), let pixel = m["threshold.pixel"].flatMap(Float.init) else { return nil }
        self.init(image: image, pixel: pixel, targetFPR: m["threshold.target_fpr"].flatMap(Double.init) ?? .nan,
                  imageFPR: m["threshold.image_fpr"].flatMap(Double.init) ?? .nan,
                  pixelFPR: m["threshold.pixel_fpr"].flatMap(Double.init) ?? .nan,
                  normalImages: m["threshold.normal_images"].flatMap(Int.init) ?? 0, method: m["threshold.method"] ?? "")
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    public static func read(jsonFile path: String) throws -> Thresholds {
        let data: Data
        do { data = try ReadableFile.read(path, limit: ReadableFile.textLimit) } catch let error as FileAccessError {
            throw CalibrationError(description: "\(path): cannot read the thresholds file: \(error.reason)")
        }
        do { return try JSONDecoder().decode(Thresholds.self, from: data) } catch {
            throw CalibrationError(description: "\(path): not a thresholds file (\(error.localizedDescription))")
        }
    }
}
