import Foundation
import XCTest
@testable import ImageIO

final class ImageEncoderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("imageio-encode-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testPNGRoundTripIsExact() throws {
        let rgb = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let rgba = withAlpha(rgb) { UInt8($0 % 256) }
        for image in [rgb, rgb.gray(), rgba] {
            let path = directory.appendingPathComponent("round-\(image.channels).png").path
            try ImageEncoder.write(image, to: path)
            XCTAssertEqual(try ImageDecoder.decodeRGB(path: path), image.rgb(), "\(image.channels) channels")
            XCTAssertEqual(try ImageDecoder.decodeGray(path: path), image.gray(), "\(image.channels) channels")
        }
        // Nothing but the outputs is left in the folder (the temp files were renamed).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["round-1.png", "round-3.png", "round-4.png"])
    }

    func testJPEGRoundTripIsClose() throws {
        let rgb = try ImageDecoder.decodeRGB(path: Fixtures.path("rgb8.png"))
        let smooth = PillowResize.resize(PillowResize.resize(rgb, width: 9, height: 6), width: 64, height: 40)
        let path = directory.appendingPathComponent("q95.jpg").path
        try ImageEncoder.write(smooth, to: path, jpegQuality: 95)
        let back = try ImageDecoder.decodeRGB(path: path)
        var total = 0
        for i in 0..<back.pixels.count { total += abs(Int(back.pixels[i]) - Int(smooth.pixels[i])) }
        let mean = Double(total) / Double(back.pixels.count)
        print("JPEG q95 round trip: mean absolute error \(mean)")
        XCTAssertLessThan(mean, 3)
        // Gray stays gray (one component), and low quality is smaller than high quality.
        let gray = smooth.gray()
        let low = try ImageEncoder.jpegData(gray, quality: 10), high = try ImageEncoder.jpegData(gray, quality: 95)
        XCTAssertLessThan(low.count, high.count)
        XCTAssertEqual(try ImageDecoder.decode(data: high, name: "gray", output: .gray).width, 64)
    }

    func testWriteErrorsNameTheFile() {
        let rgb = Image(width: 2, height: 2, channels: 3)
        let missing = directory.appendingPathComponent("no/such/dir/out.png").path
        XCTAssertThrowsError(try ImageEncoder.write(rgb, to: missing)) { error in
            guard case .writeFailed(let path, _) = error as? ImageIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing)
        }
        XCTAssertThrowsError(try ImageEncoder.write(rgb, to: directory.appendingPathComponent("a.jpg").path, format: .jpeg(quality: 0)))
    }
}
