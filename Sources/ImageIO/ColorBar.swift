import Foundation

/// A vertical colour bar for heat-map overlays: the colour map from high (top) to low (bottom) with the range's
/// ends written beside it in the built-in bitmap font (no font files), and optionally the scale rule's name
/// (e.g. "PER-CLASS") in the middle, so a reader knows what the colours are relative to.
public enum ColorBar {
    /// An RGB image `height` tall: a bar (12 px at scale 1, 8 px wider per extra scale step), a gap, then the labels
    /// (max at the top, min at the bottom, `scaleName` centred) on white at `labelScale`. The bar's row y takes the
    /// map's colour for hi - (hi - lo)·y/(height - 1).
    public static func render(height: Int, colorMap: ColorMap = .turbo, range: ClosedRange<Float>,
                              labelScale: Int = 1, scaleName: String? = nil) -> Image {
        let s = max(labelScale, 1)
        let top = label(range.upperBound), bottom = label(range.lowerBound)
        let lines = [top, bottom] + (scaleName.map { [$0] } ?? [])
        let textWidth = lines.map { BitmapFont.width(of: $0, scale: s) }.max() ?? 0
        let barWidth = 12 + 8 * (s - 1), gap = 3 * s, width = barWidth + gap + textWidth + 2
        var image = Image(width: width, height: height, channels: 3, repeating: 255)
        let lo = range.lowerBound, hi = range.upperBound
        for y in 0..<height {
            let t = height > 1 ? Float(y) / Float(height - 1) : 0
            let (r, g, b) = colorMap.color(hi - (hi - lo) * t, range: range)
            for x in 0..<barWidth {
                let i = (y * width + x) * 3
                image.pixels[i] = r; image.pixels[i + 1] = g; image.pixels[i + 2] = b
            }
        }
        let lineHeight = BitmapFont.height(scale: s)
        BitmapFont.draw(top, into: &image, x: barWidth + gap, y: 1, scale: s)
        BitmapFont.draw(bottom, into: &image, x: barWidth + gap, y: max(0, height - lineHeight - 1), scale: s)
        if let scaleName, height >= 3 * lineHeight + 8 {
            BitmapFont.draw(scaleName, into: &image, x: barWidth + gap, y: (height - lineHeight) / 2, scale: s,
                            color: (90, 90, 90))
        }
        return image
    }

    /// Up to 4 significant digits, plain or scientific.
    static func label(_ v: Float) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e-3 && a < 1e5 {
            var s = String(format: "%.4g", Double(v))
            if s.contains("e") { s = String(format: "%.2e", Double(v)) }
            return s
        }
        return String(format: "%.2e", Double(v))
    }
}
