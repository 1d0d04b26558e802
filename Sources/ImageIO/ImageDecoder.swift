import FileAccess
import Foundation

/// Decodes PNG (libspng) and JPEG (libturbojpeg) files to 8-bit RGB or gray exactly as Pillow's
/// `Image.open(p).convert("RGB")` / `.convert("L")` do, sniffing the format from the magic bytes.
public enum ImageDecoder {
    /// What the caller wants back.
    public enum Output: Sendable {
        /// 3 channels, Pillow's `convert("RGB")`.
        case rgb
        /// 1 channel, Pillow's `convert("L")` (masks).
        case gray
    }

    /// Largest accepted side, so a hostile header cannot make us allocate gigabytes.
    public static let maxSide = 30000
    /// Largest accepted pixel count: Pillow's decompression-bomb error threshold (2 × MAX_IMAGE_PIXELS).
    public static let maxPixels = 2 * 89_478_485
    /// Largest image file read (a PNG of `maxPixels` RGB pixels compresses below this).
    public static let maxFileBytes = 1 << 30

    // MARK: - Public entry points

    /// The image at `path` as RGB (gray replicated; alpha dropped; 16-bit colour -> high byte).
    public static func decodeRGB(path: String) throws -> Image { try decode(path: path, output: .rgb) }

    /// The image at `path` as one 8-bit channel (Pillow's `convert("L")`), e.g. for masks.
    public static func decodeGray(path: String) throws -> Image { try decode(path: path, output: .gray) }

    /// Reads and decodes the file at `path`.
    public static func decode(path: String, output: Output) throws -> Image {
        try decode(data: try readFile(path), name: path, output: output)
    }

    /// Decodes an in-memory PNG or JPEG; `name` is used in error messages.
    public static func decode(data: Data, name: String, output: Output) throws -> Image {
        if data.isEmpty { throw ImageIOError.corrupt(path: name, reason: "empty file") }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Image in
            let b = raw.bindMemory(to: UInt8.self)
            if b.starts(with: pngSignature) { return try decodePNG(raw, name: name, output: output) }
            if b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF {
                return try decodeJPEG(raw, name: name, output: output)
            }
            if b.count < 8 && pngSignature.starts(with: b) {
                throw ImageIOError.corrupt(path: name, reason: "PNG signature cut short (\(b.count) bytes)")
            }
            throw ImageIOError.unsupportedFormat(path: name)
        }
    }

    // MARK: - Helpers

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The file's bytes; anything but a readable regular file (a FIFO, a device, a symlink loop) is an error saying so.
    static func readFile(_ path: String) throws -> Data {
        do { return try ReadableFile.read(path, limit: maxFileBytes) } catch let error as FileAccessError {
            throw ImageIOError.unreadable(path: path, reason: error.reason)
        }
    }

    /// Rejects sizes beyond the limits before anything is allocated.
    static func checkSize(width: Int, height: Int, name: String) throws {
        if width <= 0 || height <= 0 { throw ImageIOError.corrupt(path: name, reason: "image is \(width)x\(height)") }
        if width > maxSide || height > maxSide || width * height > maxPixels {
            throw ImageIOError.tooLarge(path: name, width: width, height: height)
        }
    }
}
