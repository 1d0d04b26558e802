import XCTest
@testable import ImageIO

final class ColorBarTests: XCTestCase {
    func testGradientAndLabels() {
        let bar = ColorBar.render(height: 100, colorMap: .viridis, range: 0...0.5)
        XCTAssertEqual(bar.height, 100)
        func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            let i = (y * bar.width + x) * 3
            return (bar.pixels[i], bar.pixels[i + 1], bar.pixels[i + 2])
        }
        // Top row = the map's colour for the maximum, bottom row = for the minimum, middle in between.
        XCTAssertTrue(pixel(5, 0) == ColorMap.viridis.color(0.5, range: 0...0.5))
        XCTAssertTrue(pixel(5, 99) == ColorMap.viridis.color(0, range: 0...0.5))
        XCTAssertTrue(pixel(5, 50) == ColorMap.viridis.color(0.5 - 0.5 * 50 / 99, range: 0...0.5))
        // Labels "0.5" (top) and "0" (bottom) are drawn in black to the right of the bar.
        XCTAssertEqual(ColorBar.label(0.5), "0.5")
        XCTAssertEqual(ColorBar.label(0), "0")
        XCTAssertEqual(ColorBar.label(123456), "1.23e+05")
        let textTop = (1..<8).flatMap { y in (15..<bar.width).map { pixel($0, y) } }
        let textBottom = (92..<99).flatMap { y in (15..<bar.width).map { pixel($0, y) } }
        XCTAssertTrue(textTop.contains { $0 == (0, 0, 0) })
        XCTAssertTrue(textBottom.contains { $0 == (0, 0, 0) })
        XCTAssertFalse((20..<80).flatMap { y in (15..<bar.width).map { pixel($0, y) } }.contains { $0 == (0, 0, 0) })
    }

    func testScaledLabelsAndScaleNameAreDrawn() {
        let bar = ColorBar.render(height: 256, range: 0...3, labelScale: 2, scaleName: "PER-CLASS")
        // 2x font: labels 14 px tall; the bar is 20 px wide, then a 6 px gap.
        XCTAssertEqual(bar.width, 20 + 6 + BitmapFont.width(of: "PER-CLASS", scale: 2) + 2)
        func dark(_ rows: Range<Int>) -> Int {
            rows.reduce(0) { n, y in n + (26..<bar.width).filter { x in bar.pixels[(y * bar.width + x) * 3] < 128 }.count }
        }
        XCTAssertGreaterThan(dark(1..<15), 20)                       // "3" at the top
        XCTAssertGreaterThan(dark(241..<255), 20)                    // "0" at the bottom
        XCTAssertGreaterThan(dark(121..<135), 100)                   // "PER-CLASS" in the middle
        XCTAssertEqual(dark(20..<115), 0)
    }

    func testFontDrawsLettersAtScale() {
        XCTAssertTrue(BitmapFont.canDraw("SCORE 0.25 PREDICTED ANOMALOUS (THRESHOLD 1.5e-03) ABOVE GROUND TRUTH: 50%"))
        XCTAssertFalse(BitmapFont.canDraw("é"))
        var image = Image(width: 20, height: 20, channels: 3, repeating: 255)
        BitmapFont.draw("L", into: &image, x: 0, y: 0, scale: 2, color: (10, 20, 30))
        // 'L': the left column for 7 rows, then the bottom row; each font pixel is 2x2.
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[((y * 20 + x) * 3)..<((y * 20 + x) * 3 + 3)]) }
        XCTAssertEqual(px(0, 0), [10, 20, 30]); XCTAssertEqual(px(1, 13), [10, 20, 30])
        XCTAssertEqual(px(9, 13), [10, 20, 30]); XCTAssertEqual(px(9, 11), [255, 255, 255])
        XCTAssertEqual(px(2, 0), [255, 255, 255])
        // Lower case draws as upper case; 'e' (scientific notation) keeps its own glyph.
        var a = Image(width: 12, height: 8, channels: 1, repeating: 255), b = a
        BitmapFont.draw("x", into: &a, x: 0, y: 0); BitmapFont.draw("X", into: &b, x: 0, y: 0)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(BitmapFont.glyphs["e"], BitmapFont.glyphs["E"])
        XCTAssertEqual(BitmapFont.width(of: "AB", scale: 3), 33)
    }
}
