import Foundation
import ImageIO

/// The overlay picture of one image, as a person reads it: header lines (score, label, thresholds), then titled
/// panels "image" | "ground truth" | "anomaly map" (turbo, blended) | "above threshold", each letterboxed into a
/// square box at the image's own aspect ratio (never squashed), and a colour bar naming its scale rule.
public enum OverlayPanel {
    /// Side of each panel's box: big enough that the 2x font reads at 100 % zoom, small enough that writing one
    /// overlay per test image stays fast.
    public static let defaultBox = 256
    /// Scale of the bitmap font in titles, header lines and colour-bar labels (14 px tall letters).
    public static let textScale = 2
    static let gap = 10, margin = 6
    static let letterbox: UInt8 = 160, border: UInt8 = 70

    /// One composed overlay: the whole picture and the blended anomaly-map panel alone (for thumbnails), at the
    /// letterboxed display size.
    public struct Composition {
        public var picture: Image
        public var heat: Image
    }

    /// Composes the picture. `image` is the RGB image (any size: it is resized to the display size); `map` holds the
    /// anomaly map and its mask at the map's size; `aspect` is the original image's size (default: `image`'s);
    /// `threshold` nil leaves the "above threshold" panel out, `showTruth` false the ground truth.
    public static func compose(image: Image, map: PixelSample, range: ClosedRange<Float>, scale: ColorScale,
                               threshold: Float?, showTruth: Bool = true, aspect: (width: Int, height: Int)? = nil,
                               header: [String] = [], box: Int = defaultBox) -> Composition {
        let (dw, dh) = fit(aspect ?? (image.width, image.height), into: box)
        let rgb = image.rgb()
        let base = (rgb.width, rgb.height) == (dw, dh) ? rgb : PillowResize.resize(rgb, width: dw, height: dh, filter: .bilinear)
        let mapImage = FloatImage(width: map.width, height: map.height, values: map.scores)
        let shown = (map.width, map.height) == (dw, dh) ? mapImage
            : PillowResize.resize(mapImage, width: dw, height: dh, filter: .bilinear)
        let heat = ColorMap.blend(base, ColorMap.turbo.colorize(shown, range: range), alpha: 0.5)
        var panels: [(title: String, image: Image)] = [("IMAGE", base)]
        if showTruth {
            let mask = Image(width: map.width, height: map.height, channels: 1,
                             pixels: (map.mask ?? [UInt8](repeating: 0, count: map.width * map.height)).map { $0 != 0 ? 255 : 0 })
            panels.append(("GROUND TRUTH", PillowResize.nearest(mask, width: dw, height: dh).rgb()))
        }
        panels.append(("ANOMALY MAP", heat))
        if let threshold {
            let cut = Image(width: map.width, height: map.height, channels: 1, pixels: map.scores.map { $0 >= threshold ? 255 : 0 })
            panels.append(("ABOVE THRESHOLD", PillowResize.nearest(cut, width: dw, height: dh).rgb()))
        }
        let bar = ColorBar.render(height: box, range: range, labelScale: textScale, scaleName: scale.barName)
        return Composition(picture: layout(panels: panels, bar: bar, header: header, box: box), heat: heat)
    }

    /// The largest size with `size`'s aspect ratio that fits a `box` x `box` square (each side at least 1).
    public static func fit(_ size: (width: Int, height: Int), into box: Int) -> (width: Int, height: Int) {
        let w = max(size.width, 1), h = max(size.height, 1)
        let s = Double(box) / Double(max(w, h))
        return (max(1, min(box, Int((Double(w) * s).rounded()))), max(1, min(box, Int((Double(h) * s).rounded()))))
    }

    // MARK: - Layout

    static func layout(panels: [(title: String, image: Image)], bar: Image, header: [String], box: Int) -> Image {
        let line = BitmapFont.height(scale: textScale), lineGap = 6
        let headerHeight = header.isEmpty ? 0 : header.count * (line + lineGap)
        let framed = box + 2
        let rowWidth = panels.count * (framed + gap) + bar.width
        let width = max(rowWidth, header.map { BitmapFont.width(of: $0, scale: textScale) }.max() ?? 0) + 2 * margin
        let titleY = margin + headerHeight, boxY = titleY + line + lineGap
        let height = boxY + framed + margin
        var canvas = Image(width: width, height: height, channels: 3, repeating: 255)
        for (k, text) in header.enumerated() {
            BitmapFont.draw(text, into: &canvas, x: margin, y: margin + k * (line + lineGap), scale: textScale)
        }
        var x = margin
        for panel in panels {
            let titleWidth = BitmapFont.width(of: panel.title, scale: textScale)
            BitmapFont.draw(panel.title, into: &canvas, x: x + max(0, (framed - titleWidth) / 2), y: titleY, scale: textScale)
            fill(&canvas, x: x, y: boxY, width: framed, height: framed, value: border)
            fill(&canvas, x: x + 1, y: boxY + 1, width: box, height: box, value: letterbox)
            let img = panel.image
            paste(img, into: &canvas, x: x + 1 + (box - img.width) / 2, y: boxY + 1 + (box - img.height) / 2)
            x += framed + gap
        }
        paste(bar, into: &canvas, x: x, y: boxY + 1)
        return canvas
    }

    static func fill(_ canvas: inout Image, x: Int, y: Int, width: Int, height: Int, value: UInt8) {
        for row in y..<(y + height) {
            let start = (row * canvas.width + x) * 3
            canvas.pixels.replaceSubrange(start..<(start + width * 3), with: repeatElement(value, count: width * 3))
        }
    }

    static func paste(_ image: Image, into canvas: inout Image, x: Int, y: Int) {
        let src = image.rgb()
        for row in 0..<src.height {
            let s = row * src.width * 3, d = ((y + row) * canvas.width + x) * 3
            canvas.pixels.replaceSubrange(d..<(d + src.width * 3), with: src.pixels[s..<(s + src.width * 3)])
        }
    }

    /// Images side by side, top-aligned, `gap` px of white between them.
    public static func sideBySide(_ images: [Image], gap: Int) -> Image {
        let h = images.map(\.height).max() ?? 0
        let w = images.reduce(0) { $0 + $1.width } + gap * max(images.count - 1, 0)
        var canvas = Image(width: w, height: h, channels: 3, repeating: 255)
        var x0 = 0
        for image in images {
            paste(image, into: &canvas, x: x0, y: 0)
            x0 += image.width + gap
        }
        return canvas
    }
}

extension OverlayPanel {
    /// The header lines: score, predicted and true label, and the thresholds with where they came from.
    public static func header(score: Float, imageThreshold: ImageThreshold?, truth: Bool?,
                              pixelThreshold: Float?, pixelSource: String? = nil) -> [String] {
        var first = "SCORE " + ColorBarLabel.format(score)
        if let t = imageThreshold {
            let predicted = t.isAnomalous(score)
            first += "  PREDICTED " + (predicted ? "ANOMALOUS" : "NORMAL")
            if let truth {
                first += "  TRUE " + (truth ? "ANOMALOUS" : "NORMAL")
                if truth != predicted { first += truth ? "  (MISSED)" : "  (FALSE ALARM)" }
            }
        } else if let truth {
            first += "  TRUE " + (truth ? "ANOMALOUS" : "NORMAL")
        }
        var second: [String] = []
        if let t = imageThreshold { second.append("IMAGE THRESHOLD \(ColorBarLabel.format(t.value)) (\(t.source.rawValue.uppercased()))") }
        else { second.append("NO IMAGE THRESHOLD") }
        if let p = pixelThreshold {
            second.append("PIXEL THRESHOLD \(ColorBarLabel.format(p))" + (pixelSource.map { " (\($0.uppercased()))" } ?? ""))
        }
        return [first, second.joined(separator: "  ")]
    }
}

/// Numbers written into pictures: up to 4 significant digits, plain or scientific (the colour bar's rule).
enum ColorBarLabel {
    static func format(_ v: Float) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e-3 && a < 1e5 {
            let s = String(format: "%.4g", Double(v))
            return s.contains("e") ? String(format: "%.2e", Double(v)) : s
        }
        return String(format: "%.2e", Double(v))
    }
}
