import Foundation

/// An 8-bit image: `channels` interleaved samples per pixel (1 = gray, 3 = RGB, 4 = RGBA), rows top to bottom.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// Row-major, interleaved: sample c of pixel (x, y) is at `(y * width + x) * channels + c`.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && [1, 3, 4].contains(channels),
                     "Image: bad shape \(width)x\(height)x\(channels)")
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

    /// The sample at (x, y, channel c); for tests and slow paths.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 { pixels[(y * width + x) * channels + c] }

    // MARK: - Mode conversions (Pillow's `convert`)

    /// Pillow's `convert("RGB")`: gray replicated, alpha dropped (not composited).
    public func rgb() -> Image {
        switch channels {
        case 3: return self
        case 1:
            var out = [UInt8](repeating: 0, count: width * height * 3)
            pixels.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count { let v = src[i]; dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v }
                }
            }
            return Image(width: width, height: height, channels: 3, pixels: out)
        default:
            var out = [UInt8](repeating: 0, count: width * height * 3)
            pixels.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<(width * height) {
                        dst[3 * i] = src[4 * i]; dst[3 * i + 1] = src[4 * i + 1]; dst[3 * i + 2] = src[4 * i + 2]
                    }
                }
            }
            return Image(width: width, height: height, channels: 3, pixels: out)
        }
    }

    /// Pillow's `convert("L")`: L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16, the ITU-R 601-2 luma
    /// 0.299/0.587/0.114 in 16-bit fixed point (Pillow's `L24` macro); alpha ignored. Verified bit-exact.
    public func gray() -> Image {
        guard channels != 1 else { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        let step = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count {
                    let r = UInt32(src[step * i]), g = UInt32(src[step * i + 1]), b = UInt32(src[step * i + 2])
                    dst[i] = UInt8(truncatingIfNeeded: (r &* 19595 &+ g &* 38470 &+ b &* 7471 &+ 0x8000) >> 16)
                }
            }
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}
