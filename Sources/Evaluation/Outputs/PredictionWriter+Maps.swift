import ImageIO

extension PredictionWriter {
    /// Writes one image's map in the writer's format and returns the file's name for its scores.jsonl line (nil for
    /// `.none`): npy = the map as computed (what `clipad metrics` reads), png = the map over `base()` (the image at
    /// the map's size) beside a colour bar of `range` (nil: the map's own minimum...maximum).
    public func writeMap(_ p: MapPrediction, for imagePath: String, range: ClosedRange<Float>?,
                         base: () throws -> Image) throws -> String? {
        switch mapFormat {
        case .none:
            return nil
        case .npy:
            let stem = uniqueStem(for: imagePath)
            try writeMap(p.map, height: p.height, width: p.width, stem: stem)
            return "\(stem).npy"
        case .png:
            let stem = uniqueStem(for: imagePath)
            try NonFiniteValues.check(map: p.map, image: imagePath)
            let lo = p.map.min() ?? 0, hi = p.map.max() ?? 1
            let scale = range ?? lo...max(hi, lo)
            let heat = ColorMap.turbo.colorize(p.map, width: p.width, height: p.height, range: scale)
            let overlay = ColorMap.blend(try base(), heat, alpha: 0.5)
            let panel = OverlayPanel.sideBySide([overlay, ColorBar.render(height: p.height, range: scale)], gap: 4)
            try ImageEncoder.write(panel, to: try outputPath("\(stem).png"))
            return "\(stem).png"
        }
    }
}
