import CSPNG
import CTurboJPEG
import Foundation

/// Encodes 8-bit gray/RGB/RGBA images as PNG (libspng) or JPEG (libturbojpeg), written atomically.
public enum ImageEncoder {
    public enum Format: Sendable {
        case png
        /// Quality 1...100; colour is 4:2:0 subsampled (Pillow's default), gray stays one channel.
        case jpeg(quality: Int)
    }

    // MARK: - PNG

    /// zlib level 1 with the Up filter on every row, instead of libspng's default (level 6, each row's filter chosen
    /// among all five). On eval overlays (1218x330 RGB) level 6 took 35-56 ms each, level 3 about 9 ms and level 1
    /// about 6 ms for files 7% larger than level 3's, still lossless. PNG encoding is most of what a magnetic-tile eval
    /// spends after its scoring loop (benchmarks/RESULTS.md, sessions 10 and 12).
    static let pngCompressionLevel: Int32 = 1

    /// PNG bytes: gray, RGB or RGBA at 8 bits (lossless).
    public static func pngData(_ image: Image, name: String = "<png>") throws -> Data {
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else {
            throw ImageIOError.writeFailed(path: name, reason: "cannot create PNG encoder")
        }
        defer { spng_ctx_free(ctx) }
        func check(_ rc: Int32) throws {
            if rc != 0 { throw ImageIOError.writeFailed(path: name, reason: String(cString: spng_strerror(rc))) }
        }
        guard image.width > 0, image.height > 0 else {
            throw ImageIOError.writeFailed(path: name, reason: "image is \(image.width)x\(image.height)")
        }
        try check(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1))
        try check(spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, pngCompressionLevel))
        try check(spng_set_option(ctx, SPNG_FILTER_CHOICE, Int32(SPNG_FILTER_CHOICE_UP.rawValue)))
        let colorType: spng_color_type
        switch image.channels {
        case 1: colorType = SPNG_COLOR_TYPE_GRAYSCALE
        case 3: colorType = SPNG_COLOR_TYPE_TRUECOLOR
        default: colorType = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA
        }
        var ihdr = spng_ihdr(width: UInt32(image.width), height: UInt32(image.height), bit_depth: 8,
                             color_type: UInt8(colorType.rawValue), compression_method: 0, filter_method: 0, interlace_method: 0)
        try check(spng_set_ihdr(ctx, &ihdr))
        try image.pixels.withUnsafeBytes {
            try check(spng_encode_image(ctx, $0.baseAddress, $0.count, Int32(SPNG_FMT_PNG.rawValue), Int32(SPNG_ENCODE_FINALIZE.rawValue)))
        }
        var length = 0, error: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &error) else {
            throw ImageIOError.writeFailed(path: name, reason: String(cString: spng_strerror(error)))
        }
        defer { free(buffer) }
        try check(error)
        return Data(bytes: buffer, count: length)
    }

    // MARK: - JPEG

    /// JPEG bytes at `quality` (1...100); alpha is dropped, gray images stay gray.
    public static func jpegData(_ image: Image, quality: Int = 90, name: String = "<jpeg>") throws -> Data {
        guard (1...100).contains(quality) else { throw ImageIOError.writeFailed(path: name, reason: "JPEG quality \(quality) is not in 1...100") }
        guard image.width > 0, image.height > 0 else {
            throw ImageIOError.writeFailed(path: name, reason: "image is \(image.width)x\(image.height)")
        }
        let source = image.channels == 4 ? image.rgb() : image
        let gray = source.channels == 1
        guard let handle = tjInitCompress() else { throw ImageIOError.writeFailed(path: name, reason: "cannot create JPEG encoder") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = source.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(source.width), 0, Int32(source.height),
                        Int32((gray ? TJPF_GRAY : TJPF_RGB).rawValue), &output, &size,
                        Int32((gray ? TJSAMP_GRAY : TJSAMP_420).rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { if let output { tjFree(output) } }
        guard rc == 0, let output else { throw ImageIOError.writeFailed(path: name, reason: String(cString: tjGetErrorStr2(handle))) }
        return Data(bytes: output, count: Int(size))
    }

    // MARK: - Files

    /// Writes `image` to `path` in `format` through a temp file in the same folder and a rename.
    public static func write(_ image: Image, to path: String, format: Format) throws {
        let data: Data
        switch format {
        case .png: data = try pngData(image, name: path)
        case .jpeg(let quality): data = try jpegData(image, quality: quality, name: path)
        }
        try writeAtomically(data, to: path)
    }

    /// Writes PNG or JPEG by the path's extension (.jpg/.jpeg -> JPEG, anything else PNG).
    public static func write(_ image: Image, to path: String, jpegQuality: Int = 90) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        try write(image, to: path, format: (ext == "jpg" || ext == "jpeg") ? .jpeg(quality: jpegQuality) : .png)
    }

    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: temp)
        } catch {
            throw ImageIOError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
        if rename(temp.path, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw ImageIOError.writeFailed(path: path, reason: reason)
        }
    }
}
