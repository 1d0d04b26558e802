import Foundation

/// An 8-bit image: `channels` interleaved samples per pixel (1 = gray, 3 = RGB), rows top to bottom.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "Image: \(pixels.count) bytes for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, repeating value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// Gray replicated to RGB; RGB unchanged.
    public func rgb() -> Image {
        guard channels == 1 else { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * 3)
        for i in 0..<pixels.count { out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i] }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// Pillow's `convert("L")`: L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16 (ITU-R 601-2 luma in fixed point).
    public func gray() -> Image {
        guard channels == 3 else { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<out.count {
            let r = UInt32(pixels[3 * i]), g = UInt32(pixels[3 * i + 1]), b = UInt32(pixels[3 * i + 2])
            out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// torchvision centre crop: top = round((h - th) / 2), left = round((w - tw) / 2), with Python's
    /// round-half-to-even (so a 21-pixel margin splits 10 | 11).
    public func centerCropped(width tw: Int, height th: Int) -> Image {
        let top = Int((Double(height - th) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - tw) / 2).rounded(.toNearestOrEven))
        var out = [UInt8](repeating: 0, count: tw * th * channels)
        for y in 0..<th {
            let sy = y + top
            guard sy >= 0 && sy < height else { continue }
            for x in 0..<tw {
                let sx = x + left
                guard sx >= 0 && sx < width else { continue }
                for c in 0..<channels { out[(y * tw + x) * channels + c] = pixels[(sy * width + sx) * channels + c] }
            }
        }
        return Image(width: tw, height: th, channels: channels, pixels: out)
    }
}

/// Errors reading or writing images; the message names the file.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unsupportedFormat(path: String)
    case corrupt(path: String, reason: String)
    case tooLarge(path: String, width: Int, height: Int)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read image: \(reason)"
        case let .unsupportedFormat(path): return "\(path): not a PNG or JPEG image"
        case let .corrupt(path, reason): return "\(path): corrupt image: \(reason)"
        case let .tooLarge(path, w, h): return "\(path): image is \(w)x\(h), larger than the 30000-pixel side limit"
        case let .writeFailed(path, reason): return "\(path): cannot write image: \(reason)"
        }
    }
}
