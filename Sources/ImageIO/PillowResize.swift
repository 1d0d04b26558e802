import Foundation

/// Resizing that reproduces Pillow's `Image.resize((w, h), filter)` (libImaging/Resample.c, Geometry.c).
///
/// BICUBIC / BILINEAR: separable convolution; the kernel support is scaled by the downscale factor
/// (antialiasing); per output pixel the window is [trunc(center - support + 0.5), trunc(center + support + 0.5))
/// clamped to the image, weights `k((i - center + 0.5) / filterScale)` normalised to sum 1. 8-bit images turn
/// the weights into 22-bit fixed point (round half away from zero), accumulate in Int32 from 1 << 21 and clip
/// to 0...255 after the horizontal pass and after the vertical pass. Float images ("F") accumulate in Double
/// and store Float after each pass, no clipping. A pass is skipped when that side keeps its size; the pass
/// order follows Pillow 13 (`verticalFirst`).
/// NEAREST is Pillow's scale-affine path (see `nearestIndices`). RGBA is resized per channel without
/// Pillow's alpha premultiplication (our RGBA is only ever an overlay, never resized with holes).
public enum PillowResize {
    public enum Filter: Sendable, CaseIterable {
        case nearest, bilinear, bicubic

        /// Kernel half-width at scale 1.
        var support: Double { self == .bicubic ? 2 : 1 }

        /// Pillow's kernels: triangle, and Keys' cubic with a = -0.5.
        @inline(__always)
        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .nearest, .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    /// Pillow's PRECISION_BITS: 32 - 8 bits of sample - 2 bits of headroom.
    static let precisionBits = 22

    // MARK: - Coefficients

    /// Per output pixel: first input index, number of taps, and `maxTaps` normalised weights.
    struct Coefficients {
        var start: [Int]
        var count: [Int]
        var weights: [Double]  // outSize * maxTaps, zero beyond count
        var maxTaps: Int

        /// Pillow's `normalize_coeffs_8bpc`: (int)(w * 2^22 ± 0.5).
        var fixedPoint: [Int32] {
            let one = Double(1 << PillowResize.precisionBits)
            return weights.map { $0 < 0 ? Int32(-0.5 + $0 * one) : Int32(0.5 + $0 * one) }
        }
    }

    /// Pillow's `precompute_coeffs` for the full box [0, inSize).
    static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let maxTaps = Int(support.rounded(.up)) * 2 + 1
        var start = [Int](repeating: 0, count: outSize), count = start
        var weights = [Double](repeating: 0, count: outSize * maxTaps)
        let ss = 1 / filterScale
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero, as Swift's Int(Double) does.
            let xmin = max(Int(center - support + 0.5), 0)
            let n = min(Int(center + support + 0.5), inSize) - xmin
            var ww = 0.0
            for x in 0..<max(n, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                weights[xx * maxTaps + x] = w
                ww += w
            }
            if ww != 0 { for x in 0..<max(n, 0) { weights[xx * maxTaps + x] /= ww } }
            start[xx] = xmin
            count[xx] = max(n, 0)
        }
        return Coefficients(start: start, count: count, weights: weights, maxTaps: maxTaps)
    }

    // MARK: - Limits

    /// Largest target side accepted (a 16384² RGB result is already 768 MiB).
    public static let maxSide = 16384
    /// Target sides `validate` accepts.
    public static let sideRange = 1...maxSide

    /// Throws unless `width` x `height` is a target `resize` can make: each side in `sideRange` and at most
    /// `ImageDecoder.maxPixels` pixels. `what` names the operation in the message.
    public static func validate(width: Int, height: Int, what: String = "resize") throws {
        guard sideRange.contains(width), sideRange.contains(height), width * height <= ImageDecoder.maxPixels else {
            throw ImageIOError.badSize(what: what, width: width, height: height, allowed: sideRange)
        }
    }

    /// `resize` after `validate`: what input-driven callers use.
    public static func checkedResize(_ image: Image, width: Int, height: Int, filter: Filter = .bicubic) throws -> Image {
        try validate(width: width, height: height)
        return resize(image, width: width, height: height, filter: filter)
    }

    // MARK: - 8-bit

    /// Resizes to `width` x `height` with Pillow's arithmetic (any channel count). The target must pass
    /// `validate` (input-driven callers use `checkedResize`).
    public static func resize(_ image: Image, width: Int, height: Int, filter: Filter = .bicubic) -> Image {
        precondition(sideRange.contains(width) && sideRange.contains(height), "resize: target \(width)x\(height) outside \(sideRange)")
        if filter == .nearest { return nearest(image, width: width, height: height) }
        guard image.width > 0, image.height > 0 else { return Image(width: width, height: height, channels: image.channels) }
        var current = image
        if verticalFirst(from: (image.width, image.height), to: (width, height)) {
            current = vertical(current, height: height, filter: filter)
            return width != image.width ? horizontal(current, width: width, filter: filter) : current
        }
        if width != image.width { current = horizontal(current, width: width, filter: filter) }
        if height != image.height { current = vertical(current, height: height, filter: filter) }
        return current
    }

    /// Pass order. Pillow ≤ 12 always ran horizontal then vertical; Pillow 13 (PR #9549) runs the vertical pass
    /// first when the height shrinks and the width shrinks by less than half as many pixels:
    /// `h < H && 2 (W - w) < H - h`. The order changes the 8-bit intermediate's rounding/clipping (up to a few
    /// levels), so we follow the installed reference (Pillow 13.0.0, rule checked on 887 random size pairs).
    static func verticalFirst(from source: (Int, Int), to target: (Int, Int)) -> Bool {
        target.1 < source.1 && 2 * (source.0 - target.0) < source.1 - target.1
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        let shifted = v >> Int32(precisionBits)
        return shifted < 0 ? 0 : (shifted > 255 ? 255 : UInt8(truncatingIfNeeded: shifted))
    }

    static func horizontal(_ image: Image, width: Int, filter: Filter) -> Image {
        let c = coefficients(inSize: image.width, outSize: width, filter: filter)
        let fixed = c.fixedPoint
        let ch = image.channels, inRow = image.width * ch, outRow = width * ch
        var out = [UInt8](repeating: 0, count: outRow * image.height)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                fixed.withUnsafeBufferPointer { k in
                    c.start.withUnsafeBufferPointer { start in
                        c.count.withUnsafeBufferPointer { count in
                            for y in 0..<image.height {
                                let s = src.baseAddress! + y * inRow, d = dst.baseAddress! + y * outRow
                                for x in 0..<width {
                                    horizontalPixel(s + start[x] * ch, taps: count[x], weights: k.baseAddress! + x * c.maxTaps,
                                                    channels: ch, into: d + x * ch)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: image.height, channels: ch, pixels: out)
    }

    /// One output pixel of the horizontal pass: all bands in one walk over the taps (gray and RGB, the images ClipAD
    /// resizes, get their own loop; the sums are integers, so any order gives Pillow's result exactly).
    @inline(__always)
    static func horizontalPixel(_ p: UnsafePointer<UInt8>, taps n: Int, weights w: UnsafePointer<Int32>, channels ch: Int,
                                into d: UnsafeMutablePointer<UInt8>) {
        let half = Int32(1 << (precisionBits - 1))
        switch ch {
        case 1:
            var a = half
            for t in 0..<n { a &+= Int32(p[t]) &* w[t] }
            d[0] = clip8(a)
        case 3:
            var a0 = half, a1 = half, a2 = half
            for t in 0..<n {
                let q = p + 3 * t
                a0 &+= Int32(q[0]) &* w[t]; a1 &+= Int32(q[1]) &* w[t]; a2 &+= Int32(q[2]) &* w[t]
            }
            d[0] = clip8(a0); d[1] = clip8(a1); d[2] = clip8(a2)
        default:
            for band in 0..<ch {
                var a = half
                for t in 0..<n { a &+= Int32(p[t * ch + band]) &* w[t] }
                d[band] = clip8(a)
            }
        }
    }

    static func vertical(_ image: Image, height: Int, filter: Filter) -> Image {
        let c = coefficients(inSize: image.height, outSize: height, filter: filter)
        let fixed = c.fixedPoint
        let row = image.width * image.channels
        var out = [UInt8](repeating: 0, count: row * height)
        var acc = [Int32](repeating: 0, count: row)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { a in
                    for y in 0..<height {
                        for i in 0..<row { a[i] = half }
                        // Row by row so the inner loop is a contiguous multiply-add the compiler vectorises.
                        for t in 0..<c.count[y] {
                            let w = fixed[y * c.maxTaps + t], s = src.baseAddress! + (c.start[y] + t) * row
                            for i in 0..<row { a[i] &+= Int32(s[i]) &* w }
                        }
                        let d = dst.baseAddress! + y * row
                        for i in 0..<row { d[i] = clip8(a[i]) }
                    }
                }
            }
        }
        return Image(width: image.width, height: height, channels: image.channels, pixels: out)
    }

    // MARK: - Nearest

    /// Pillow's NEAREST (`ImagingScaleAffine`): source index trunc(xo) where xo starts at scale / 2 and
    /// grows by `scale` by repeated Double addition (so rounding matches Pillow's accumulation, not (x + 0.5)·s).
    static func nearestIndices(inSize: Int, outSize: Int) -> [Int] {
        let step = Double(inSize) / Double(outSize)
        var xo = step * 0.5
        var out = [Int](repeating: 0, count: outSize)
        for x in 0..<outSize {
            out[x] = min(max(Int(xo), 0), inSize - 1)  // xo is never negative; the clamp guards rounding
            xo += step
        }
        return out
    }

    /// Pillow's NEAREST resize, for masks and label maps.
    public static func nearest(_ image: Image, width: Int, height: Int) -> Image {
        precondition(sideRange.contains(width) && sideRange.contains(height), "resize: target \(width)x\(height) outside \(sideRange)")
        guard image.width > 0, image.height > 0 else { return Image(width: width, height: height, channels: image.channels) }
        let xs = nearestIndices(inSize: image.width, outSize: width), ys = nearestIndices(inSize: image.height, outSize: height)
        let ch = image.channels
        var out = [UInt8](repeating: 0, count: width * height * ch)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = ys[y] * image.width * ch, d = y * width * ch
                    for x in 0..<width {
                        for band in 0..<ch { dst[d + x * ch + band] = src[s + xs[x] * ch + band] }
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: ch, pixels: out)
    }
}
