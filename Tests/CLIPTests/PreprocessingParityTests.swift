import Checkpoint
import Foundation
import ImageIO
import Tensor
import XCTest
@testable import CLIP

/// Image preprocessing against open_clip's eval transform and AnomalyCLIP's square resize (Pillow underneath),
/// computed by tools/fixtures/make_clip_fixtures.py on the committed images.
final class PreprocessingParityTests: XCTestCase {
    static let images = ["rgb.png", "gray.jpg", "rgba.png"]

    func check(model: String, size: Int, resize: ImagePreprocessor.Resize, reference name: String) throws {
        let ref = try Fixtures.reference("\(model)/reference.safetensors").tensor(name)
        let pre = ImagePreprocessor(size: size, resize: resize)
        let plane = 3 * size * size
        for (i, file) in Self.images.enumerated() {
            let got = try pre.load(path: Fixtures.path("images/\(file)"))
            let want = ref.slice(rows: i..<(i + 1)).reshaped([3, size, size])
            // Compare in 8-bit levels (x * std * 255). PNG input: the resize must be exact. JPEG input: the system
            // libturbojpeg and the libjpeg-turbo inside Pillow's wheel may differ by one level on a few pixels.
            var worst: Float = 0
            for j in 0..<plane {
                let std = ImagePreprocessor.openAIStd[j / (size * size)]
                worst = max(worst, abs(got[flat: j] - want[flat: j]) * std * 255)
            }
            let allowed: Float = file.hasSuffix(".jpg") ? 1.001 : 0.001
            XCTAssertLessThanOrEqual(worst, allowed, "\(model) \(resize) \(file): max difference \(worst) levels")
        }
    }

    func testOpenCLIPShortestSideCenterCrop() throws {
        try check(model: "vit16q", size: 64, resize: .shortestSideCenterCrop, reference: "preprocessed")
        try check(model: "vit14g", size: 56, resize: .shortestSideCenterCrop, reference: "preprocessed")
    }

    func testAnomalyCLIPSquareResize() throws {
        try check(model: "vit16q", size: 64, resize: .square, reference: "preprocessed_square")
        try check(model: "vit14g", size: 56, resize: .square, reference: "preprocessed_square")
    }
}
