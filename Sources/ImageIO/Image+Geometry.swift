import Foundation

// MARK: - Crops and torchvision-style resizes

extension Image {
    /// torchvision `CenterCrop((th, tw))` on a PIL image. Per axis: when the crop fits, the offset is
    /// round((size - crop) / 2) with Python's round-half-to-even (a 21-pixel margin splits 10 | 11); when it
    /// does not, torchvision first pads (crop - size) // 2 zeros before and the rest after.
    public func centerCropped(width tw: Int, height th: Int) -> Image {
        precondition(PillowResize.sideRange.contains(tw) && PillowResize.sideRange.contains(th), "centerCropped: target \(tw)x\(th)")
        func offset(_ size: Int, _ crop: Int) -> Int {
            crop > size ? -((crop - size) / 2) : Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
        }
        let top = offset(height, th), left = offset(width, tw)
        var out = [UInt8](repeating: 0, count: tw * th * channels)
        let x0 = max(0, -left), x1 = min(tw, width - left)  // output columns that map inside the image
        guard x1 > x0 else { return Image(width: tw, height: th, channels: channels, pixels: out) }
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<th {
                    let sy = y + top
                    guard sy >= 0 && sy < height else { continue }
                    let s = src.baseAddress! + (sy * width + x0 + left) * channels
                    let d = dst.baseAddress! + (y * tw + x0) * channels
                    d.update(from: s, count: (x1 - x0) * channels)
                }
            }
        }
        return Image(width: tw, height: th, channels: channels, pixels: out)
    }

    /// torchvision `Resize(n)` with an int (`_compute_resized_output_size`): the short side becomes `n`,
    /// the long side int(n * long / short) (truncated); a square image becomes n x n.
    public static func shortestSideSize(width: Int, height: Int, shortSide n: Int) -> (width: Int, height: Int) {
        // In Double throughout: n * side can overflow Int for hostile n; the result is clamped into Int.
        func long(_ side: Int, _ short: Int) -> Int {
            let v = (Double(n) * Double(side) / Double(max(short, 1))).rounded(.towardZero)
            return v >= Double(Int.max) ? Int.max : Int(v)
        }
        if width <= height { return (n, long(height, width)) }
        return (long(width, height), n)
    }

    /// Throws unless a shortest-side resize to `n` stays within `PillowResize.validate`: a 1x29999 strip resized
    /// to 224 would be 224x6719776 (4.5 GB) before any crop.
    public func validateShortestSide(to n: Int) throws {
        guard width >= 1, height >= 1 else {
            throw ImageIOError.badSize(what: "shortest-side resize of an empty \(width)x\(height) image", width: n, height: n, allowed: PillowResize.sideRange)
        }
        let (w, h) = Image.shortestSideSize(width: width, height: height, shortSide: n)
        try PillowResize.validate(width: w, height: h, what: "shortest-side resize of a \(width)x\(height) image to \(n)")
    }

    /// torchvision `Resize(n, BICUBIC)` on a PIL image (Pillow's resize; unchanged when already that size).
    public func resizedShortestSide(to n: Int, filter: PillowResize.Filter = .bicubic) -> Image {
        let (w, h) = Image.shortestSideSize(width: width, height: height, shortSide: n)
        return (w == width && h == height) ? self : PillowResize.resize(self, width: w, height: h, filter: filter)
    }

    /// torchvision `Compose([Resize(n), CenterCrop(n)])`: OpenAI CLIP / open_clip eval preprocessing geometry.
    public func resizedShortestSideCenterCropped(to n: Int, filter: PillowResize.Filter = .bicubic) -> Image {
        resizedShortestSide(to: n, filter: filter).centerCropped(width: n, height: n)
    }
}
