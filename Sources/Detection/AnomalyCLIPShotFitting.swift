import AnomalyCLIP
import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor

/// AnomalyCLIP + shots as a fitted model: the shot bank built from image files, and `clipad fit --method anomalyclip`'s
/// model file (prompts + bank + its statistics + the shots + the detector spec). Fitting is encoding: nothing is trained.
public enum AnomalyCLIPShotFitting {
    /// Files and folders -> the sorted image files; an empty result is an error.
    public static func expandShots(_ given: [String]) throws -> [String] {
        let shots = try ImageInputs.expand(given).sorted()
        guard !shots.isEmpty else { throw DetectionError.badSetting(setting: "shots", reason: "no images in \(given.joined(separator: ", "))") }
        return shots
    }

    /// The bank of `shots` (image files; one that cannot be read is an error naming it, not a skip).
    public static func bank(detector: AnomalyCLIPDetector, shots: [String], layers: [Int]) throws -> AnomalyCLIPShotBank {
        let side = detector.configuration.imageSize
        let preprocessor = ImagePreprocessor(size: side, resize: .square)
        let pixels = try shots.map { path -> Tensor in
            let image = try ImageDecoder.decodeRGB(path: path)
            try preprocessor.validate(image)
            return try preprocessor.preprocess(image).reshaped([1, 3, side, side])
        }
        do {
            return try detector.shotBank(shots: pixels, layers: layers)
        } catch let AnomalyCLIPError.badConfiguration(reason) {
            throw DetectionError.badSetting(setting: layers.allSatisfy({ (1...detector.model.vision.layers).contains($0) }) ? "shots" : "bank-layers",
                                            reason: reason)
        }
    }

    /// `clipad fit --method anomalyclip`: the detector of `spec` (which must name shots) -> its model file at `output`.
    /// Returns the detector written.
    @discardableResult
    public static func fit(_ spec: DetectorSpec, output: String, options: DetectorFactory.Options = .init()) throws -> any Detector {
        guard spec.method == .anomalyclip else {
            throw DetectionError.badSetting(setting: "method", reason: "AnomalyCLIP shot fitting needs --method anomalyclip")
        }
        guard let shots = spec.shots, !shots.isEmpty else {
            throw DetectionError.missingSetting(setting: "shots", method: "anomalyclip", why: "the normal images the bank is built from")
        }
        var request = spec
        request.thresholds = nil
        var quiet = options
        quiet.ignoreThresholds = true
        let (detector, _) = try DetectorFactory.make(request, options: quiet)
        guard let anomalyCLIP = detector as? AnomalyCLIPDetection else {
            throw DetectionError.badSetting(setting: "method", reason: "AnomalyCLIP shot fitting needs --method anomalyclip")
        }
        try anomalyCLIP.writeModel(thresholds: nil, to: output)
        return detector
    }
}
