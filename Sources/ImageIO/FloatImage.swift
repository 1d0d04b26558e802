import Foundation

/// A one-channel Float32 image (Pillow mode "F"), row-major: value (x, y) at `y * width + x`.
/// Used for anomaly maps.
public struct FloatImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(width >= 0 && height >= 0 && values.count == width * height,
                     "FloatImage: \(values.count) values for \(width)x\(height)")
        self.width = width
        self.height = height
        self.values = values
    }

    public subscript(x: Int, y: Int) -> Float { values[y * width + x] }
}

extension PillowResize {
    /// Pillow's `Image.resize` on mode "F": Double weights and accumulation, Float stored after each pass.
    public static func resize(_ image: FloatImage, width: Int, height: Int, filter: Filter = .bicubic) -> FloatImage {
        precondition(width > 0 && height > 0, "resize: target \(width)x\(height)")
        guard image.width > 0, image.height > 0 else {
            return FloatImage(width: width, height: height, values: [Float](repeating: 0, count: width * height))
        }
        if filter == .nearest {
            let xs = nearestIndices(inSize: image.width, outSize: width), ys = nearestIndices(inSize: image.height, outSize: height)
            var out = [Float](repeating: 0, count: width * height)
            for y in 0..<height { for x in 0..<width { out[y * width + x] = image.values[ys[y] * image.width + xs[x]] } }
            return FloatImage(width: width, height: height, values: out)
        }
        var current = image
        if verticalFirst(from: (image.width, image.height), to: (width, height)) {
            current = floatPass(current, outSize: height, horizontal: false, filter: filter)
            return width != image.width ? floatPass(current, outSize: width, horizontal: true, filter: filter) : current
        }
        if width != image.width { current = floatPass(current, outSize: width, horizontal: true, filter: filter) }
        if height != image.height { current = floatPass(current, outSize: height, horizontal: false, filter: filter) }
        return current
    }

    static func floatPass(_ image: FloatImage, outSize: Int, horizontal: Bool, filter: Filter) -> FloatImage {
        let inSize = horizontal ? image.width : image.height
        let c = coefficients(inSize: inSize, outSize: outSize, filter: filter)
        let (ow, oh) = horizontal ? (outSize, image.height) : (image.width, outSize)
        var out = [Float](repeating: 0, count: ow * oh)
        let w = image.width
        image.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { k in
                    if horizontal {
                        for y in 0..<oh {
                            for x in 0..<ow {
                                var ss = 0.0
                                let s = y * w + c.start[x], kx = x * c.maxTaps
                                for t in 0..<c.count[x] { ss += Double(src[s + t]) * k[kx + t] }
                                dst[y * ow + x] = Float(ss)
                            }
                        }
                    } else {
                        for y in 0..<oh {
                            let ky = y * c.maxTaps
                            for x in 0..<ow {
                                var ss = 0.0
                                for t in 0..<c.count[y] { ss += Double(src[(c.start[y] + t) * w + x]) * k[ky + t] }
                                dst[y * ow + x] = Float(ss)
                            }
                        }
                    }
                }
            }
        }
        return FloatImage(width: ow, height: oh, values: out)
    }
}
