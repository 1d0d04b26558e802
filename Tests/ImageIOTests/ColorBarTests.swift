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
}
