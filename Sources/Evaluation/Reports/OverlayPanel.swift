import ImageIO

/// The overlay picture of one image: image | ground truth | anomaly map (turbo, blended) | thresholded map | colour
/// bar with the map range.
public enum OverlayPanel {
    /// All four panels at the map's size, 4 px white gaps. `threshold` nil draws an empty (black) mask.
    public static func compose(image: Image, map: PixelSample, range: ClosedRange<Float>, threshold: Float?) -> Image {
        let w = map.width, h = map.height
        let base = image.width == w && image.height == h ? image.rgb() : PillowResize.nearest(image.rgb(), width: w, height: h)
        let truth = Image(width: w, height: h, channels: 1, pixels: (map.mask ?? [UInt8](repeating: 0, count: w * h)).map { $0 != 0 ? 255 : 0 })
        let heat = ColorMap.blend(base, ColorMap.turbo.colorize(map.scores, width: w, height: h, range: range), alpha: 0.5)
        let cut = Image(width: w, height: h, channels: 1,
                        pixels: map.scores.map { v in threshold.map { v >= $0 ? 255 : 0 } ?? 0 })
        return sideBySide([base, truth.rgb(), heat, cut.rgb(), ColorBar.render(height: h, range: range)], gap: 4)
    }

    public static func sideBySide(_ images: [Image], gap: Int) -> Image {
        let h = images.map(\.height).max() ?? 0
        let w = images.reduce(0) { $0 + $1.width } + gap * max(images.count - 1, 0)
        var canvas = Image(width: w, height: h, channels: 3, repeating: 255)
        var x0 = 0
        for image in images {
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = (y * w + x0) * 3
                canvas.pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
            x0 += image.width + gap
        }
        return canvas
    }
}
