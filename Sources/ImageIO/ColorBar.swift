import Foundation

/// A vertical colour bar for heat-map overlays: the colour map from high (top) to low (bottom) with the range's
/// ends written beside it in a small built-in bitmap font (no font files).
public enum ColorBar {
    /// An RGB image `height` tall: a 12 px bar, a 3 px gap, then the labels (max at the top, min at the bottom) on
    /// white. The bar's row y takes the map's colour for hi - (hi - lo)·y/(height - 1).
    public static func render(height: Int, colorMap: ColorMap = .turbo, range: ClosedRange<Float>) -> Image {
        let top = label(range.upperBound), bottom = label(range.lowerBound)
        let textWidth = max(BitmapFont.width(of: top), BitmapFont.width(of: bottom))
        let barWidth = 12, gap = 3, width = barWidth + gap + textWidth + 2
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
        BitmapFont.draw(top, into: &image, x: barWidth + gap, y: 1)
        BitmapFont.draw(bottom, into: &image, x: barWidth + gap, y: max(0, height - BitmapFont.glyphHeight - 1))
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

/// A 5x7 pixel font for numbers (digits, '.', '-', '+', 'e'), drawn in black, 1 px between glyphs.
enum BitmapFont {
    static let glyphWidth = 5, glyphHeight = 7

    /// Rows top to bottom, bit 4 = leftmost column.
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C], "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        "+": [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00], "e": [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E],
    ]

    static func width(of text: String) -> Int { max(0, text.count * (glyphWidth + 1) - 1) }

    /// Draws `text` with its top-left corner at (x, y), clipped to the image; unknown characters are blank.
    static func draw(_ text: String, into image: inout Image, x: Int, y: Int) {
        let channels = image.channels
        for (k, ch) in text.enumerated() {
            guard let rows = glyphs[ch] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<glyphWidth where bits & (0x10 >> UInt8(c)) != 0 {
                    let px = x + k * (glyphWidth + 1) + c, py = y + r
                    guard px >= 0, px < image.width, py >= 0, py < image.height else { continue }
                    for ch in 0..<min(channels, 3) { image.pixels[(py * image.width + px) * channels + ch] = 0 }
                }
            }
        }
    }
}
