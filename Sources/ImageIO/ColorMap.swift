import Foundation

/// Perceptual colour maps for heat-map overlays.
public enum ColorMap: String, CaseIterable, Sendable {
    /// Google's Turbo (Mikhailov 2019), via its published 5th/6th-order polynomial fit.
    case turbo
    /// A gray ramp (for masks).
    case gray

    /// RGB for t in [0, 1].
    public func color(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let x = Double(min(max(t, 0), 1))
        switch self {
        case .gray:
            let v = UInt8((x * 255).rounded())
            return (v, v, v)
        case .turbo:
            let r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))))
            let g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))))
            let b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))))
            func byte(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
            return (byte(r), byte(g), byte(b))
        }
    }

    /// Colours a [height, width] map, scaling `range` to [0, 1].
    public func colorize(_ values: [Float], width: Int, height: Int, range: ClosedRange<Float>) -> Image {
        precondition(values.count == width * height, "colorize: \(values.count) values for \(width)x\(height)")
        let span = max(range.upperBound - range.lowerBound, 1e-12)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<values.count {
            let (r, g, b) = color((values[i] - range.lowerBound) / span)
            pixels[3 * i] = r; pixels[3 * i + 1] = g; pixels[3 * i + 2] = b
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// `overlay` blended over `base` (both RGB, same size) with weight `alpha`.
    public static func blend(_ base: Image, _ overlay: Image, alpha: Float) -> Image {
        let b = base.rgb(), o = overlay.rgb()
        precondition(b.width == o.width && b.height == o.height, "blend: sizes differ")
        var out = b.pixels
        for i in 0..<out.count {
            out[i] = UInt8((Float(b.pixels[i]) * (1 - alpha) + Float(o.pixels[i]) * alpha).rounded())
        }
        return Image(width: b.width, height: b.height, channels: 3, pixels: out)
    }
}
