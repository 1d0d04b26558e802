import Foundation
import XCTest
@testable import ImageIO

/// Reads Tests/ImageIOTests/Fixtures (written by tools/fixtures/make_image_fixtures.py).
enum Fixtures {
    struct Output: Decodable {
        var file: String
        var width: Int
        var height: Int
        var channels: Int
        var dtype: String
        var source: String?
        var op: String?
        var mode: String?
        var filter: String?
        var alpha: Double?
        var colormap: String?
        var vmin: Double?
        var vmax: Double?
        var size: Int?
        var transposed: Bool?
        var resized: [Int]?
    }

    struct Manifest: Decodable {
        var outputs: [Output]
        var images: [String: ImageInfo]
    }

    struct ImageInfo: Decodable {
        var width: Int
        var height: Int
        var pillow_mode: String
    }

    static let directory: URL = {
        guard let base = Bundle.module.resourceURL else { fatalError("no resource bundle") }
        return base.appendingPathComponent("Fixtures")
    }()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let manifest: Manifest = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch { fatalError("manifest.json: \(error)") }
    }()

    static func outputs(op: String) -> [Output] { manifest.outputs.filter { $0.op == op } }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent("expected").appendingPathComponent(name)))
    }

    static func floats(_ name: String) throws -> [Float] {
        let raw = try bytes(name)
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }  // little-endian host
    }

    /// The expected uint8 output as an Image.
    static func image(_ o: Output) throws -> Image {
        Image(width: o.width, height: o.height, channels: o.channels, pixels: try bytes(o.file))
    }
}

/// Largest absolute difference between two images of the same shape (fails the test on a shape mismatch).
func maxDifference(_ a: Image, _ b: Image, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
        XCTFail("\(what): shape \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)", file: file, line: line)
        return Int.max
    }
    var m = 0
    for i in 0..<a.pixels.count { m = max(m, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
    return m
}

/// `rgb` with an alpha channel: pixel i's alpha is `alpha(i)` (row-major index).
func withAlpha(_ rgb: Image, _ alpha: (Int) -> UInt8) -> Image {
    var rgba = Image(width: rgb.width, height: rgb.height, channels: 4)
    for i in 0..<(rgb.width * rgb.height) {
        for c in 0..<3 { rgba.pixels[4 * i + c] = rgb.pixels[3 * i + c] }
        rgba.pixels[4 * i + 3] = alpha(i)
    }
    return rgba
}
