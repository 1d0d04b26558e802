import Foundation

/// Resizing that reproduces Pillow's `Image.resize((w, h), filter)` on 8-bit images (libImaging/Resample.c):
/// separable convolution, support scaled by the downscale factor (antialiasing), coefficients normalised per output
/// pixel and converted to 22-bit fixed point, horizontal pass then vertical pass, clipping to 0...255 after each.
public enum PillowResize {
    public enum Filter: Sendable {
        case bicubic, bilinear

        var support: Double { self == .bicubic ? 2 : 1 }

        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Per output pixel: first input index and fixed-point weights.
    struct Coefficients {
        var start: [Int]
        var count: [Int]
        var weights: [Int32]   // outSize * maxTaps
        var maxTaps: Int
    }

    static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let maxTaps = Int(support.rounded(.up)) * 2 + 1
        var start = [Int](repeating: 0, count: outSize), count = start
        var weights = [Int32](repeating: 0, count: outSize * maxTaps)
        var k = [Double](repeating: 0, count: maxTaps)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            // C casts truncate toward zero.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var ww = 0.0
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<xmax {
                let w = ww != 0 ? k[x] / ww : k[x]
                let fixed = w < 0 ? Int32(-0.5 + w * Double(1 << precisionBits)) : Int32(0.5 + w * Double(1 << precisionBits))
                weights[xx * maxTaps + x] = fixed
            }
            start[xx] = xmin
            count[xx] = xmax
        }
        return Coefficients(start: start, count: count, weights: weights, maxTaps: maxTaps)
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        let shifted = v >> Int32(precisionBits)
        return shifted < 0 ? 0 : (shifted > 255 ? 255 : UInt8(shifted))
    }

    /// Resizes to `width` x `height` with Pillow's arithmetic.
    public static func resize(_ image: Image, width: Int, height: Int, filter: Filter = .bicubic) -> Image {
        var current = image
        if width != image.width {
            current = horizontal(current, width: width, filter: filter)
        }
        if height != image.height {
            current = vertical(current, height: height, filter: filter)
        }
        return current
    }

    static func horizontal(_ image: Image, width: Int, filter: Filter) -> Image {
        let c = coefficients(inSize: image.width, outSize: width, filter: filter)
        let ch = image.channels
        var out = [UInt8](repeating: 0, count: width * image.height * ch)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let row = y * image.width * ch
                    for x in 0..<width {
                        let s = c.start[x], n = c.count[x], kw = x * c.maxTaps
                        for k in 0..<ch {
                            var acc = half
                            for t in 0..<n { acc &+= Int32(src[row + (s + t) * ch + k]) &* c.weights[kw + t] }
                            dst[(y * width + x) * ch + k] = clip8(acc)
                        }
                    }
                }
            }
        }
        return Image(width: width, height: image.height, channels: ch, pixels: out)
    }

    static func vertical(_ image: Image, height: Int, filter: Filter) -> Image {
        let c = coefficients(inSize: image.height, outSize: height, filter: filter)
        let ch = image.channels, w = image.width
        var out = [UInt8](repeating: 0, count: w * height * ch)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = c.start[y], n = c.count[y], kw = y * c.maxTaps
                    for i in 0..<(w * ch) {
                        var acc = half
                        for t in 0..<n { acc &+= Int32(src[(s + t) * w * ch + i]) &* c.weights[kw + t] }
                        dst[y * w * ch + i] = clip8(acc)
                    }
                }
            }
        }
        return Image(width: w, height: height, channels: ch, pixels: out)
    }

    /// Pillow's NEAREST resize: source index floor((x + 0.5) * in / out), for masks.
    public static func nearest(_ image: Image, width: Int, height: Int) -> Image {
        let ch = image.channels
        var out = [UInt8](repeating: 0, count: width * height * ch)
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        for y in 0..<height {
            let iy = min(Int((Double(y) + 0.5) * sy), image.height - 1)
            for x in 0..<width {
                let ix = min(Int((Double(x) + 0.5) * sx), image.width - 1)
                for k in 0..<ch { out[(y * width + x) * ch + k] = image.pixels[(iy * image.width + ix) * ch + k] }
            }
        }
        return Image(width: width, height: height, channels: ch, pixels: out)
    }
}
