import CSPNG
import CTurboJPEG
import Foundation

/// Encodes 8-bit gray/RGB images as PNG (libspng) or JPEG (libturbojpeg), written atomically.
public enum ImageEncoder {
    public static func pngData(_ image: Image) throws -> Data {
        guard image.channels == 1 || image.channels == 3 || image.channels == 4 else {
            throw ImageIOError.writeFailed(path: "<png>", reason: "\(image.channels) channels")
        }
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else {
            throw ImageIOError.writeFailed(path: "<png>", reason: "cannot create PNG encoder")
        }
        defer { spng_ctx_free(ctx) }
        spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1)
        let colorType: spng_color_type = image.channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE
            : (image.channels == 3 ? SPNG_COLOR_TYPE_TRUECOLOR : SPNG_COLOR_TYPE_TRUECOLOR_ALPHA)
        var ihdr = spng_ihdr(width: UInt32(image.width), height: UInt32(image.height), bit_depth: 8,
                             color_type: UInt8(colorType.rawValue), compression_method: 0, filter_method: 0, interlace_method: 0)
        spng_set_ihdr(ctx, &ihdr)
        let rc = image.pixels.withUnsafeBytes {
            spng_encode_image(ctx, $0.baseAddress, $0.count, Int32(SPNG_FMT_PNG.rawValue), Int32(SPNG_ENCODE_FINALIZE.rawValue))
        }
        if rc != 0 { throw ImageIOError.writeFailed(path: "<png>", reason: String(cString: spng_strerror(rc))) }
        var length = 0, error: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &error), error == 0 else {
            throw ImageIOError.writeFailed(path: "<png>", reason: String(cString: spng_strerror(error)))
        }
        defer { free(buffer) }
        return Data(bytes: buffer, count: length)
    }

    public static func jpegData(_ image: Image, quality: Int = 90) throws -> Data {
        let rgb = image.rgb()
        guard let handle = tjInitCompress() else { throw ImageIOError.writeFailed(path: "<jpeg>", reason: "cannot create JPEG encoder") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = rgb.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(rgb.width), 0, Int32(rgb.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { if let output { tjFree(output) } }
        guard rc == 0, let output else { throw ImageIOError.writeFailed(path: "<jpeg>", reason: String(cString: tjGetErrorStr2(handle))) }
        return Data(bytes: output, count: Int(size))
    }

    /// Writes PNG or JPEG by the path's extension, through a temp file and a rename.
    public static func write(_ image: Image, to path: String, jpegQuality: Int = 90) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        let data = (ext == "jpg" || ext == "jpeg") ? try jpegData(image, quality: jpegQuality) : try pngData(image)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temp)
            guard rename(temp.path, path) == 0 else { throw ImageIOError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        } catch let e as ImageIOError {
            try? FileManager.default.removeItem(at: temp); throw e
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ImageIOError.writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
