/// A decoded single-channel mask (row-major, nonzero = defect).
public struct GrayMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Decodes one mask image file to 8-bit gray (supplied by the caller, e.g. backed by ImageIO).
public typealias MaskDecoder = (String) throws -> GrayMask

extension DatasetSample {
    /// The sample's mask, or nil when it has none. A folder of PNGs (MVTec LOCO) is merged by pixel-wise
    /// maximum: a pixel is a defect when any of the instance masks marks it. All must share one size.
    public func loadMask(decode: MaskDecoder) throws -> GrayMask? {
        guard let maskPath else { return nil }
        let files = FileTree.isDirectory(maskPath)
            ? try FileTree.entries(maskPath).filter { FileTree.fileExtension($0) == "png" }.map { FileTree.join(maskPath, $0) }
            : [maskPath]
        guard !files.isEmpty else { throw DatasetError.badMask(path: maskPath, reason: "mask folder has no PNG files") }
        var merged: GrayMask?
        for file in files {
            let m = try decode(file)
            guard m.width > 0, m.height > 0, m.width.multipliedReportingOverflow(by: m.height) == (m.pixels.count, false) else {
                throw DatasetError.badMask(path: file, reason: "decoded \(m.pixels.count) pixels for \(m.width)x\(m.height)")
            }
            guard let current = merged else { merged = m; continue }
            guard current.width == m.width, current.height == m.height else {
                throw DatasetError.badMask(path: file, reason:
                    "size \(m.width)x\(m.height) differs from \(current.width)x\(current.height) of \(files[0])")
            }
            merged = GrayMask(width: m.width, height: m.height,
                              pixels: zip(current.pixels, m.pixels).map { max($0, $1) })
        }
        return merged
    }
}
