import Checkpoint
import CLIP
import Foundation
import ImageIO
import XCTest
@testable import Evaluation

/// One colour rule everywhere: the same image under the same `--color-scale` is coloured the same in predict's PNG
/// and eval's overlay (anomaly-map panel and colour bar pixel for pixel), and the bar names the rule.
final class ColorScaleCLITests: XCTestCase {
    func testPredictAndEvalColourTheSameImageAlike() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-colour-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let clip = folder.appendingPathComponent("clip.safetensors").path
        try SafetensorsWriter.write(CLIPModel.randomWeights(try CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
        let root = folder.appendingPathComponent("part")
        let generator = SyntheticDefectImages(size: 64)
        for (dir, defect, count) in [("normal", SyntheticDefectImages.Defect.none, 2), ("abnormal", .scratch, 2)] {
            let d = root.appendingPathComponent(dir)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            for i in 0..<count {
                // 64 x 40: not square, so both must letterbox it the same way.
                let s = generator.sample(index: i + (dir == "normal" ? 0 : 10), defect: defect)
                let image = PillowResize.resize(Image(width: 64, height: 64, channels: 3, pixels: s.rgb), width: 64, height: 40)
                try ImageEncoder.write(image, to: d.appendingPathComponent("\(dir)\(i).png").path)
            }
        }
        let image = root.appendingPathComponent("abnormal/abnormal0.png").path
        let box = OverlayPanel.defaultBox, framed = box + 2, step = framed + OverlayPanel.gap
        for scale in ["fixed", "per-image"] {
            let predicted = folder.appendingPathComponent("predict-\(scale)")
            let p = try CLIRunner.run(["predict", "--method", "winclip", "--clip", clip, "--maps", "png", "--color-scale", scale,
                                       "--output", predicted.path, image])
            XCTAssertEqual(p.status, 0, p.stderr)
            let evaluated = folder.appendingPathComponent("eval-\(scale)")
            let e = try CLIRunner.run(["eval", "--method", "winclip", "--clip", clip, "--data", root.path, "--dataset", "folder",
                                       "--color-scale", scale, "--output", evaluated.path])
            XCTAssertEqual(e.status, 0, e.stderr)
            let a = try ImageDecoder.decodeRGB(path: predicted.appendingPathComponent("abnormal0.png").path)
            let overlays = try FileManager.default.contentsOfDirectory(atPath: evaluated.appendingPathComponent("overlays/part").path)
            let file = try XCTUnwrap(overlays.first { $0.hasSuffix("_abnormal0.png") }, "\(overlays)")
            let b = try ImageDecoder.decodeRGB(path: evaluated.appendingPathComponent("overlays/part/\(file)").path)
            // Both pictures: two header lines, a title row, then boxes. predict: image | map | bar; eval (no masks, so
            // no pixel threshold): image | ground truth | map | bar.
            let boxY = a.height - OverlayPanel.margin - framed
            XCTAssertEqual(b.height - OverlayPanel.margin - framed, boxY)
            func crop(_ img: Image, x: Int, width: Int) -> [UInt8] {
                var out: [UInt8] = []
                for y in boxY..<(boxY + framed) {
                    let start: Int = (y * img.width + x) * 3
                    out += img.pixels[start..<(start + width * 3)]
                }
                return out
            }
            let mapA = crop(a, x: OverlayPanel.margin + step, width: framed)
            let mapB = crop(b, x: OverlayPanel.margin + 2 * step, width: framed)
            XCTAssertEqual(mapA, mapB, "\(scale): anomaly-map panels differ")
            let barWidth = min(a.width - (OverlayPanel.margin + 2 * step), b.width - (OverlayPanel.margin + 3 * step)) - OverlayPanel.margin
            XCTAssertEqual(crop(a, x: OverlayPanel.margin + 2 * step, width: barWidth),
                           crop(b, x: OverlayPanel.margin + 3 * step, width: barWidth), "\(scale): colour bars differ")
        }
        // per-class needs the class together: predict refuses it with one line naming the option.
        let r = try CLIRunner.run(["predict", "--method", "winclip", "--clip", clip, "--color-scale", "per-class", image])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--color-scale per-class"), r.stderr)
    }
}
