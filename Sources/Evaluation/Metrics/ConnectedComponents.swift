/// 8-connected components of a binary mask (nonzero = foreground), as `scipy.ndimage.label` with a 3x3
/// structure and `skimage.measure.label` with full connectivity. Components are numbered 1, 2, ... in raster
/// order of their first pixel; background is 0.
public struct ConnectedComponents: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Component number per pixel (row-major), 0 for background.
    public let labels: [Int32]
    /// Pixel count of component k at index k - 1.
    public let sizes: [Int]

    public var count: Int { sizes.count }

    /// Labels `mask` (row-major, `width * height` bytes).
    public init(mask: [UInt8], width: Int, height: Int) throws {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height) == (mask.count, false) else {
            throw MetricError.badMapSize(index: 0, width: width, height: height, scores: mask.count)
        }
        var labels = [Int32](repeating: 0, count: mask.count)
        var stack = [Int32]()
        let sizes = mask.withUnsafeBufferPointer { m in
            labels.withUnsafeMutableBufferPointer { l in
                Self.label(mask: m, width: width, height: height, into: l, stack: &stack)
            }
        }
        self.width = width
        self.height = height
        self.labels = labels
        self.sizes = sizes
    }

    // MARK: - Kernel

    /// Writes component numbers into `labels` (same size as `mask`, any prior content) and returns the sizes.
    /// Flood fill with an explicit stack: every foreground pixel is pushed once, no recursion.
    static func label(mask: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                      into labels: UnsafeMutableBufferPointer<Int32>, stack: inout [Int32]) -> [Int] {
        var sizes = [Int]()
        for i in 0..<labels.count { labels[i] = 0 }
        for start in 0..<mask.count where mask[start] != 0 && labels[start] == 0 {
            let id = Int32(sizes.count + 1)
            var size = 0
            labels[start] = id
            stack.removeAll(keepingCapacity: true)
            stack.append(Int32(start))
            while let p = stack.popLast() {
                size += 1
                let y = Int(p) / width, x = Int(p) - y * width
                for dy in -1...1 {
                    let yy = y + dy
                    guard yy >= 0, yy < height else { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        guard xx >= 0, xx < width else { continue }
                        let q = yy * width + xx
                        if mask[q] != 0 && labels[q] == 0 {
                            labels[q] = id
                            stack.append(Int32(q))
                        }
                    }
                }
            }
            sizes.append(size)
        }
        return sizes
    }
}
