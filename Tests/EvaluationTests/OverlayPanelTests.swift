import ImageIO
import XCTest
@testable import Evaluation

/// The overlay picture: aspect ratio kept (letterboxed), titled panels, text on it, and the colour rule's ranges.
final class OverlayPanelTests: XCTestCase {
    func testLetterboxKeepsTheAspectRatio() throws {
        XCTAssertTrue(OverlayPanel.fit((400, 200), into: 256) == (256, 128))
        XCTAssertTrue(OverlayPanel.fit((30, 90), into: 256) == (85, 256))
        XCTAssertTrue(OverlayPanel.fit((1, 5000), into: 256) == (1, 256))
        // A wide image (map at 8x8, as a square-resizing model sees it): the panel is 256 x 128 inside gray bands.
        let image = Image(width: 400, height: 200, channels: 3, repeating: 30)
        let map = try PixelSample(width: 8, height: 8, scores: (0..<64).map { Float($0) }, mask: [UInt8](repeating: 0, count: 64))
        let c = OverlayPanel.compose(image: image, map: map, range: 0...63, scale: .perClass, threshold: 32,
                                     header: ["SCORE 1"])
        XCTAssertEqual(c.heat.width, 256)
        XCTAssertEqual(c.heat.height, 128)
        let p = c.picture
        let boxY = p.height - OverlayPanel.margin - 258, x = OverlayPanel.margin + 1
        func px(_ x: Int, _ y: Int) -> UInt8 { p.pixels[(y * p.width + x) * 3] }
        XCTAssertEqual(px(x + 100, boxY + 1 + 10), OverlayPanel.letterbox)        // band above the image
        XCTAssertEqual(px(x + 100, boxY + 1 + 64 + 10), 30)                        // the image itself
        XCTAssertEqual(px(x + 100, boxY + 1 + 250), OverlayPanel.letterbox)       // band below
        XCTAssertEqual(px(x - 1, boxY + 100), OverlayPanel.border)                 // the frame
        // Four panels and the bar: the "above threshold" panel is white where the map >= 32 (lower half).
        let cut = OverlayPanel.margin + 3 * (258 + OverlayPanel.gap) + 1
        XCTAssertEqual(px(cut + 128, boxY + 1 + 64 + 100), 255)
        XCTAssertEqual(px(cut + 128, boxY + 1 + 64 + 20), 0)
        XCTAssertGreaterThan(p.width, 4 * 258 + 3 * OverlayPanel.gap + 20)
        // Titles and header are drawn (dark pixels in the title row and the header line).
        let titleY = OverlayPanel.margin + BitmapFont.height(scale: 2) + 6
        let titleDark = (titleY..<(titleY + 14)).reduce(0) { n, y in n + (0..<p.width).filter { px($0, y) < 50 }.count }
        XCTAssertGreaterThan(titleDark, 200)
        let headerDark = (OverlayPanel.margin..<(OverlayPanel.margin + 14)).reduce(0) { n, y in n + (0..<200).filter { px($0, y) < 50 }.count }
        XCTAssertGreaterThan(headerDark, 30)
    }

    func testHeaderStatesScoreLabelAndThresholds() {
        let lines = OverlayPanel.header(score: 0.25, imageThreshold: ImageThreshold(value: 0.5, source: .calibrated), truth: true,
                                        pixelThreshold: 1.5, pixelSource: "calibrated")
        XCTAssertEqual(lines, ["SCORE 0.25  PREDICTED NORMAL  TRUE ANOMALOUS  (MISSED)",
                               "IMAGE THRESHOLD 0.5 (CALIBRATED)  PIXEL THRESHOLD 1.5 (CALIBRATED)"])
        XCTAssertTrue(lines.allSatisfy(BitmapFont.canDraw))
        XCTAssertEqual(OverlayPanel.header(score: 2, imageThreshold: nil, truth: nil, pixelThreshold: nil), ["SCORE 2", "NO IMAGE THRESHOLD"])
        for title in ["IMAGE", "GROUND TRUTH", "ANOMALY MAP", "ABOVE THRESHOLD"] + ColorScale.allCases.map(\.barName) {
            XCTAssertTrue(BitmapFont.canDraw(title), title)
        }
    }

    func testColorScaleRanges() {
        let map: [Float] = [0.40, 0.44, 0.42]
        XCTAssertEqual(ColorScale.fixed.range(of: map, classRange: 0.1...0.9, natural: 0...1), 0...1)
        XCTAssertEqual(ColorScale.perImage.range(of: map, classRange: 0.1...0.9, natural: 0...1), 0.40...0.44)
        XCTAssertEqual(ColorScale.perClass.range(of: map, classRange: 0.1...0.9, natural: 0...1), 0.1...0.9)
        XCTAssertEqual(ColorScale.span([[1, 2], [-1, .nan], []]), -1...2)
        XCTAssertEqual(ColorScale.span([Float.nan]), 0...1)
        XCTAssertEqual(ColorScale(rawValue: "per-class"), .perClass)
        XCTAssertEqual(ColorScale.evaluationDefault, .perClass)
        XCTAssertEqual(ColorScale.predictionDefault, .perImage)
    }
}
