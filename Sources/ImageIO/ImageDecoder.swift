import CSPNG
import CTurboJPEG
import Foundation

/// Decodes PNG (libspng) and JPEG (libturbojpeg) files, sniffing the format from the magic bytes.
public enum ImageDecoder {
    /// Largest accepted side, so a hostile header cannot make us allocate gigabytes.
    public static let maxSide = 30000

    /// The image as RGB (gray replicated; alpha dropped as Pillow's `convert("RGB")` does; 16-bit -> high byte).
    public static func decodeRGB(path: String) throws -> Image {
        try decode(path: path, gray: false)
    }

    /// The image as one 8-bit channel (Pillow's `convert("L")` for colour images), e.g. for masks.
    public static func decodeGray(path: String) throws -> Image {
        try decode(path: path, gray: true)
    }

    static func decode(path: String, gray: Bool) throws -> Image {
        guard FileManager.default.fileExists(atPath: path) else { throw ImageIOError.unreadable(path: path, reason: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageIOError.unreadable(path: path, reason: "permission denied or not a file")
        }
        if data.isEmpty { throw ImageIOError.corrupt(path: path, reason: "empty file") }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes, path: path, gray: gray) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(bytes, path: path, gray: gray) }
        throw ImageIOError.unsupportedFormat(path: path)
    }

    // MARK: - PNG

    static func decodePNG(_ bytes: [UInt8], path: String, gray: Bool) throws -> Image {
        guard let ctx = spng_ctx_new(0) else { throw ImageIOError.corrupt(path: path, reason: "cannot create PNG decoder") }
        defer { spng_ctx_free(ctx) }
        func check(_ rc: Int32) throws {
            if rc != 0 { throw ImageIOError.corrupt(path: path, reason: String(cString: spng_strerror(rc))) }
        }
        try bytes.withUnsafeBytes { raw in
            try check(spng_set_png_buffer(ctx, raw.baseAddress, raw.count))
            try check(spng_set_image_limits(ctx, UInt32(maxSide), UInt32(maxSide)))
            var ihdr = spng_ihdr()
            try check(spng_get_ihdr(ctx, &ihdr))
            if ihdr.width > maxSide || ihdr.height > maxSide {
                throw ImageIOError.tooLarge(path: path, width: Int(ihdr.width), height: Int(ihdr.height))
            }
        }
        var ihdr = spng_ihdr()
        try check(spng_get_ihdr(ctx, &ihdr))
        let isGrayFile = ihdr.color_type == UInt8(SPNG_COLOR_TYPE_GRAYSCALE.rawValue)
            || ihdr.color_type == UInt8(SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue)
        // Gray files decode to gray directly (exact for L masks); colour files to RGB (alpha stripped).
        let wantGrayOutput = isGrayFile && ihdr.bit_depth <= 8
        let format = Int32(wantGrayOutput ? SPNG_FMT_G8.rawValue : SPNG_FMT_RGB8.rawValue)
        var size = 0
        try check(spng_decoded_image_size(ctx, format, &size))
        var pixels = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeBytes { _ in
            try pixels.withUnsafeMutableBytes { out in
                try check(spng_decode_image(ctx, out.baseAddress, size, format, 0))
            }
        }
        let image = Image(width: Int(ihdr.width), height: Int(ihdr.height), channels: wantGrayOutput ? 1 : 3, pixels: pixels)
        return gray ? (wantGrayOutput ? image : (isGrayFile ? firstChannel(image) : image.gray())) : image.rgb()
    }

    /// A gray image that was expanded to RGB: take one channel back (exact, no luma rounding).
    static func firstChannel(_ image: Image) -> Image {
        Image(width: image.width, height: image.height, channels: 1,
              pixels: stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] })
    }

    // MARK: - JPEG

    static func decodeJPEG(_ bytes: [UInt8], path: String, gray: Bool) throws -> Image {
        guard let handle = tjInitDecompress() else { throw ImageIOError.corrupt(path: path, reason: "cannot create JPEG decoder") }
        defer { tjDestroy(handle) }
        var mutableBytes = bytes
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = mutableBytes.withUnsafeMutableBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        if header != 0 { throw ImageIOError.corrupt(path: path, reason: String(cString: tjGetErrorStr2(handle))) }
        if width <= 0 || height <= 0 { throw ImageIOError.corrupt(path: path, reason: "zero-sized JPEG") }
        if width > maxSide || height > maxSide { throw ImageIOError.tooLarge(path: path, width: Int(width), height: Int(height)) }
        let isGrayFile = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = (gray && isGrayFile) ? 1 : 3
        let pixelFormat = channels == 1 ? TJPF_GRAY : TJPF_RGB
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        // Accurate integer DCT and fancy upsampling, as Pillow's libjpeg defaults.
        let rc = mutableBytes.withUnsafeMutableBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, width, 0, height,
                              Int32(pixelFormat.rawValue), TJFLAG_ACCURATEDCT)
            }
        }
        if rc != 0 {
            // Warnings (e.g. a truncated file) still return -1 in libturbojpeg 2.x: treat all as errors.
            throw ImageIOError.corrupt(path: path, reason: String(cString: tjGetErrorStr2(handle)))
        }
        let image = Image(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
        return gray ? image.gray() : image
    }
}
