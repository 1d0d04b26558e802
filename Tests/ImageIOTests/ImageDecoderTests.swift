import Foundation
import XCTest
@testable import ImageIO

/// Decoding against Pillow's `convert("RGB")` / `convert("L")`.
final class ImageDecoderTests: XCTestCase {
    func testPNGDecodingMatchesPillowExactly() throws {
        let pngs = Fixtures.manifest.images.keys.filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertGreaterThanOrEqual(pngs.count, 14)
        for name in pngs {
            let stem = String(name.dropLast(4))
            let info = try XCTUnwrap(Fixtures.manifest.images[name])
            let rgb = try ImageDecoder.decodeRGB(path: Fixtures.path(name))
            XCTAssertEqual([rgb.width, rgb.height, rgb.channels], [info.width, info.height, 3], name)
            XCTAssertEqual(rgb.pixels, try Fixtures.bytes("\(stem).rgb.raw"), "\(name) (Pillow mode \(info.pillow_mode)) RGB")
            let gray = try ImageDecoder.decodeGray(path: Fixtures.path(name))
            XCTAssertEqual(gray.channels, 1)
            XCTAssertEqual(gray.pixels, try Fixtures.bytes("\(stem).l.raw"), "\(name) (Pillow mode \(info.pillow_mode)) L")
        }
    }

    /// Pillow bundles libjpeg-turbo 3.x, we link the system's 2.1.x; both use the accurate integer IDCT and
    /// fancy upsampling. Measured difference on these files: 0 levels (asserted ≤ 1 to allow other builds).
    func testJPEGDecodingMatchesPillow() throws {
        let jpegs = Fixtures.manifest.images.keys.filter { $0.hasSuffix(".jpg") }.sorted()
        XCTAssertGreaterThanOrEqual(jpegs.count, 6)
        var worst = 0
        for name in jpegs {
            let stem = String(name.dropLast(4))
            let info = try XCTUnwrap(Fixtures.manifest.images[name])
            for (output, suffix, channels) in [(ImageDecoder.Output.rgb, "rgb", 3), (.gray, "l", 1)] {
                let got = try ImageDecoder.decode(path: Fixtures.path(name), output: output)
                let want = Image(width: info.width, height: info.height, channels: channels,
                                 pixels: try Fixtures.bytes("\(stem).\(suffix).raw"))
                let d = maxDifference(got, want, "\(name) \(suffix)")
                print("JPEG \(name) \(suffix): max difference to Pillow \(d)")
                worst = max(worst, d)
            }
        }
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func testDecodeFromMemorySniffsFormatNotExtension() throws {
        // A JPEG saved under a .png name and vice versa still decode.
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb444.jpg")))
        let png = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("rgb8.png")))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imageio-sniff-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try jpeg.write(to: dir.appendingPathComponent("looks.png"))
        try png.write(to: dir.appendingPathComponent("looks.jpg"))
        XCTAssertEqual(try ImageDecoder.decodeRGB(path: dir.appendingPathComponent("looks.png").path),
                       try ImageDecoder.decodeRGB(path: Fixtures.path("rgb444.jpg")))
        XCTAssertEqual(try ImageDecoder.decodeRGB(path: dir.appendingPathComponent("looks.jpg").path).pixels,
                       try Fixtures.bytes("rgb8.rgb.raw"))
        XCTAssertEqual(try ImageDecoder.decode(data: png, name: "mem", output: .rgb).pixels, try Fixtures.bytes("rgb8.rgb.raw"))
    }

    // MARK: - Errors

    func assertThrows(_ path: String, _ check: (ImageIOError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ImageDecoder.decodeRGB(path: path)
            XCTFail("\(path): decoded without error", file: file, line: line)
        } catch let error as ImageIOError {
            XCTAssertTrue(check(error), "\(path): unexpected \(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), "message must name the file: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
            print(error.description)
        } catch {
            XCTFail("\(path): untyped error \(error)", file: file, line: line)
        }
    }

    func testCorruptAndMissingFilesThrowTypedErrorsNamingTheFile() {
        func corrupt(_ e: ImageIOError) -> Bool { if case .corrupt = e { return true }; return false }
        assertThrows(Fixtures.path("corrupt/truncated.png"), corrupt)
        assertThrows(Fixtures.path("corrupt/truncated_header.png"), corrupt)
        assertThrows(Fixtures.path("corrupt/truncated.jpg"), corrupt)
        assertThrows(Fixtures.path("corrupt/truncated_header.jpg"), corrupt)
        assertThrows(Fixtures.path("corrupt/bad_crc.png"), corrupt)
        assertThrows(Fixtures.path("corrupt/empty.png")) { $0 == .corrupt(path: Fixtures.path("corrupt/empty.png"), reason: "empty file") }
        assertThrows(Fixtures.path("corrupt/random.png")) { $0 == .unsupportedFormat(path: Fixtures.path("corrupt/random.png")) }
        assertThrows(Fixtures.path("corrupt/notanimage.jpg")) { if case .unsupportedFormat = $0 { return true }; return false }
        assertThrows(Fixtures.path("corrupt/huge.png")) { $0 == .tooLarge(path: Fixtures.path("corrupt/huge.png"), width: 40000, height: 5) }
        assertThrows(Fixtures.path("corrupt/does-not-exist.png")) { if case .unreadable = $0 { return true }; return false }
        assertThrows(Fixtures.path("corrupt")) { if case .unreadable = $0 { return true }; return false }
    }

    /// Every prefix and a few hundred seeded byte mutations of a PNG and a JPEG: decode or throw, never crash.
    func testTruncationsAndMutationsNeverCrash() throws {
        var rng = SplitMix64(seed: 7)
        for name in ["rgb8.png", "palette4.png", "rgba16.png", "rgb420.jpg", "rgb420_progressive.jpg", "gray.jpg"] {
            let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
            var thrown = 0
            for length in stride(from: 0, to: data.count, by: max(1, data.count / 150)) {
                do { _ = try ImageDecoder.decode(data: Data(data[0..<length]), name: name, output: .rgb) } catch is ImageIOError { thrown += 1 }
            }
            XCTAssertGreaterThan(thrown, 100, "\(name): truncations should mostly be rejected")
            for _ in 0..<150 {
                var mutated = data
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    mutated[Int(rng.next() % UInt64(data.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                _ = try? ImageDecoder.decode(data: Data(mutated), name: name, output: .gray)
            }
        }
    }
}

/// A tiny deterministic generator for tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
