import Foundation
import XCTest
@testable import ImageIO

/// Resizes against Pillow's `Image.resize` (RGB, L and F modes), torchvision crops, blend and colour maps.
final class PillowResizeTests: XCTestCase {
    static func filter(_ name: String?) -> PillowResize.Filter {
        switch name {
        case "bilinear": return .bilinear
        case "nearest": return .nearest
        default: return .bicubic
        }
    }

    /// Measured: 0 levels everywhere (bit-exact); the brief allows 1.
    func testUInt8ResizesMatchPillow() throws {
        let source = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let gray = source.gray()
        let cases = Fixtures.outputs(op: "resize").filter { $0.mode != "F" }
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        var worst = 0
        for o in cases {
            let input = o.mode == "L" ? gray : source
            let got = PillowResize.resize(input, width: o.width, height: o.height, filter: Self.filter(o.filter))
            let d = maxDifference(got, try Fixtures.image(o), o.file)
            if d > 0 { print("\(o.file): max difference \(d)") }
            worst = max(worst, d)
        }
        print("uint8 resizes: \(cases.count) cases, max difference to Pillow \(worst)")
        XCTAssertEqual(worst, 0)
    }

    /// Other channel counts take the generic loop: each band of an RGBA resize is that band resized on its own
    /// (Pillow resizes bands independently), which the RGB and gray paths above match Pillow for.
    func testFourChannelResizeIsEachBandResized() throws {
        let rgb = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let alpha = Image(width: rgb.width, height: rgb.height, channels: 1,
                          pixels: (0..<(rgb.width * rgb.height)).map { UInt8(($0 * 7) % 256) })
        let rgba = withAlpha(rgb) { alpha.pixels[$0] }
        for (w, h) in [(rgb.width * 2 + 3, rgb.height / 3 + 1), (rgb.width / 2 + 1, rgb.height * 2 - 1)] {
            let got = PillowResize.resize(rgba, width: w, height: h, filter: .bicubic)
            let color = PillowResize.resize(rgb, width: w, height: h, filter: .bicubic)
            let band = PillowResize.resize(alpha, width: w, height: h, filter: .bicubic)
            var colorDiffers = 0, alphaDiffers = 0
            for i in 0..<(w * h) {
                if (0..<3).contains(where: { got.pixels[4 * i + $0] != color.pixels[3 * i + $0] }) { colorDiffers += 1 }
                if got.pixels[4 * i + 3] != band.pixels[i] { alphaDiffers += 1 }
            }
            XCTAssertEqual(colorDiffers, 0, "\(w)x\(h): pixels whose colour differs from the RGB resize")
            XCTAssertEqual(alphaDiffers, 0, "\(w)x\(h): pixels whose alpha differs from the band's own resize")
        }
    }

    /// Pillow mode "F": Double weights and sums, Float after each pass. Measured: bit-exact.
    func testFloatResizesMatchPillow() throws {
        let input = FloatImage(width: 16, height: 12, values: try Fixtures.floats("float_input_16x12.raw"))
        let cases = Fixtures.outputs(op: "resize").filter { $0.mode == "F" }
        XCTAssertEqual(cases.count, 8)
        for o in cases {
            let got = PillowResize.resize(input, width: o.width, height: o.height, filter: Self.filter(o.filter))
            let want = try Fixtures.floats(o.file)
            XCTAssertEqual(got.values.count, want.count, o.file)
            var worst: Float = 0
            for (a, b) in zip(got.values, want) { worst = max(worst, abs(a - b)) }
            print("\(o.file): max difference \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-6 * 40, o.file)
        }
    }

    func testPassOrderFollowsPillow13() {
        XCTAssertTrue(PillowResize.verticalFirst(from: (37, 23), to: (100, 7)))
        XCTAssertTrue(PillowResize.verticalFirst(from: (37, 23), to: (33, 9)))   // 8 < 14
        XCTAssertFalse(PillowResize.verticalFirst(from: (47, 15), to: (42, 5)))  // 10 == 10: horizontal first
        XCTAssertFalse(PillowResize.verticalFirst(from: (37, 23), to: (13, 9)))
        XCTAssertFalse(PillowResize.verticalFirst(from: (37, 23), to: (224, 224)))
    }

    func testNearestUsesPillowsAccumulatedCoordinates() {
        // 37 -> 14: (x + 0.5) * 37/14 and Pillow's repeated addition agree here; the indices are Pillow's.
        XCTAssertEqual(PillowResize.nearestIndices(inSize: 4, outSize: 8), [0, 0, 1, 1, 2, 2, 3, 3])
        XCTAssertEqual(PillowResize.nearestIndices(inSize: 9, outSize: 3), [1, 4, 7])
        XCTAssertEqual(PillowResize.nearestIndices(inSize: 1, outSize: 5), [0, 0, 0, 0, 0])
    }

    func testCoefficientsAreNormalised() {
        for (i, o) in [(37, 224), (224, 13), (100, 7), (5, 5), (1, 3)] {
            for filter in [PillowResize.Filter.bicubic, .bilinear] {
                let c = PillowResize.coefficients(inSize: i, outSize: o, filter: filter)
                for x in 0..<o {
                    let sum = (0..<c.count[x]).reduce(0.0) { $0 + c.weights[x * c.maxTaps + $1] }
                    XCTAssertEqual(sum, 1, accuracy: 1e-12, "\(i)->\(o) \(filter) pixel \(x)")
                    XCTAssertLessThanOrEqual(c.start[x] + c.count[x], i)
                }
            }
        }
    }

    // MARK: - Geometry

    func testCenterCropMatchesTorchvision() throws {
        let source = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let cases = Fixtures.outputs(op: "centercrop")
        XCTAssertEqual(cases.count, 6)
        for o in cases {
            XCTAssertEqual(source.centerCropped(width: o.width, height: o.height), try Fixtures.image(o), o.file)
        }
    }

    func testShortestSideResizeThenCropMatchesTorchvision() throws {
        let wide = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let tall = Self.rotated90(wide)
        let cases = Fixtures.outputs(op: "shortest")
        XCTAssertEqual(cases.count, 6)
        for o in cases {
            let input = o.transposed == true ? tall : wide
            let n = try XCTUnwrap(o.size)
            let size = Image.shortestSideSize(width: input.width, height: input.height, shortSide: n)
            XCTAssertEqual([size.width, size.height], o.resized, o.file)
            XCTAssertEqual(input.resizedShortestSideCenterCropped(to: n), try Fixtures.image(o), o.file)
        }
    }

    /// PIL's `transpose(ROTATE_90)`: counter-clockwise.
    static func rotated90(_ image: Image) -> Image {
        var out = Image(width: image.height, height: image.width, channels: image.channels)
        for y in 0..<out.height {
            for x in 0..<out.width {
                for c in 0..<image.channels {
                    out.pixels[(y * out.width + x) * image.channels + c] = image[image.width - 1 - y, x, c]
                }
            }
        }
        return out
    }

    // MARK: - Colour

    func testBlendMatchesPillow() throws {
        let base = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let overlay = try ImageDecoder.decodeRGB(path: Fixtures.path("overlay.png"))
        let cases = Fixtures.outputs(op: "blend")
        XCTAssertEqual(cases.count, 2)
        for o in cases {
            let got = ColorMap.blend(base, overlay, alpha: Float(try XCTUnwrap(o.alpha)))
            XCTAssertEqual(got, try Fixtures.image(o), o.file)
        }
    }

    func testColorMapsMatchMatplotlib() throws {
        let cases = Fixtures.outputs(op: "colormap")
        XCTAssertEqual(cases.count, 3)
        for o in cases {
            let values = try Fixtures.floats(try XCTUnwrap(o.source))
            let map = try XCTUnwrap(ColorMap(rawValue: try XCTUnwrap(o.colormap)))
            let range = Float(try XCTUnwrap(o.vmin))...Float(try XCTUnwrap(o.vmax))
            let got = map.colorize(values, width: values.count, height: 1, range: range)
            let want = try Fixtures.bytes(o.file)
            let bad = (0..<values.count).filter { got.pixels[3 * $0..<3 * $0 + 3] != want[3 * $0..<3 * $0 + 3] }
            XCTAssertEqual(bad.count, 0, "\(o.file): \(bad.prefix(5).map { values[$0] })")
        }
        XCTAssertEqual(ColorMap.viridis.table.count, 768)
        XCTAssertEqual(ColorMap.turbo.table.count, 768)
        XCTAssertTrue(ColorMap.turbo.color(.nan) == (0, 0, 0))
        XCTAssertTrue(ColorMap.gray.color(0.5) == (128, 128, 128))
        // An empty range maps everything to the first entry instead of dividing by zero.
        XCTAssertEqual(ColorMap.gray.colorize([3, 3], width: 2, height: 1, range: 3...3).pixels, [0, 0, 0, 0, 0, 0])
    }
}
