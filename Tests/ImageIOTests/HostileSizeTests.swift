import Foundation
import XCTest
@testable import ImageIO

/// Issue 13 reproducers for ImageIO: resize targets outside the accepted sides are thrown errors (a 2^62 side
/// used to overflow the coefficient tables), decoded sizes are checked from the header before allocating.
final class HostileSizeTests: XCTestCase {
    func testResizeTargetsOutsideTheRange() {
        let image = Image(width: 4, height: 4, channels: 3)
        for (w, h) in [(0, 4), (4, -1), (4_611_686_018_427_387_904, 1), (16385, 4), (16384, 16384)] {
            XCTAssertThrowsError(try PillowResize.checkedResize(image, width: w, height: h)) {
                XCTAssertEqual($0 as? ImageIOError, .badSize(what: "resize", width: w, height: h, allowed: 1...16384))
            }
        }
        XCTAssertEqual(try PillowResize.checkedResize(image, width: 5, height: 3).width, 5)
    }

    func testShortestSideResizeOfAStripIsCapped() throws {
        let strip = Image(width: 1, height: 29999, channels: 3)
        XCTAssertEqual(Image.shortestSideSize(width: 1, height: 29999, shortSide: 224).height, 6_719_776)
        XCTAssertThrowsError(try strip.validateShortestSide(to: 224)) {
            XCTAssertEqual($0 as? ImageIOError, .badSize(what: "shortest-side resize of a 1x29999 image to 224", width: 224,
                                                         height: 6_719_776, allowed: 1...16384))
        }
        XCTAssertNoThrow(try Image(width: 640, height: 480, channels: 3).validateShortestSide(to: 224))
        // hostile n: computed in Double, clamped, never an Int overflow
        XCTAssertThrowsError(try Image(width: 3, height: 5, channels: 3).validateShortestSide(to: 4_611_686_018_427_387_904))
    }

    func testDecodedSizeBudgetIsCheckedFromTheHeader() throws {
        // the 138-byte 1x29999 PNG decodes (30 kB of pixels); a side past 30000 or a bomb is refused unallocated
        XCTAssertNoThrow(try ImageDecoder.checkSize(width: 1, height: 29999, name: "strip.png"))
        XCTAssertNoThrow(try ImageDecoder.checkSize(width: 13000, height: 13000, name: "big.jpg"))  // a real 13000² JPEG
        XCTAssertThrowsError(try ImageDecoder.checkSize(width: 1, height: 30001, name: "tall.png")) {
            XCTAssertEqual($0 as? ImageIOError, .tooLarge(path: "tall.png", width: 1, height: 30001))
        }
        XCTAssertThrowsError(try ImageDecoder.checkSize(width: 20000, height: 20000, name: "bomb.png"))
        let strip = try ImageDecoder.decode(data: Self.stripPNG, name: "strip.png", output: .rgb)
        XCTAssertEqual([strip.width, strip.height], [1, 29999])
        XCTAssertEqual(Self.stripPNG.count, 138)
    }

    /// FuzzTesting/Corpus/FuzzImageDecode/strip-1x29999.png (tools/fuzz/make_fuzz_corpus.py).
    static var stripPNG: Data {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FuzzTesting/Corpus/FuzzImageDecode/strip-1x29999.png")
        return (try? Data(contentsOf: url)) ?? Data()
    }
}
