import CTurboJPEG
import Foundation

// MARK: - JPEG (libturbojpeg)
//
// Decoder settings as Pillow's libjpeg defaults: accurate integer IDCT (JDCT_ISLOW) and fancy upsampling.
// Pillow ships libjpeg-turbo 3.x, the system has 2.1.x; the fixtures measure the difference (0 on our files).
// Grayscale files decode to gray; colour to RGB, and convert("L") of colour uses the L24 luma (Image.gray()).
// CMYK/YCCK files are taken as Adobe-inverted (as Pillow does when the Adobe marker is present, which
// every CMYK JPEG writer we know sets) and converted with Pillow's cmyk2rgb.

extension ImageDecoder {
    static func decodeJPEG(_ raw: UnsafeRawBufferPointer, name: String, output: Output) throws -> Image {
        guard let handle = tjInitDecompress() else { throw ImageIOError.corrupt(path: name, reason: "cannot create JPEG decoder") }
        defer { tjDestroy(handle) }
        let src = raw.bindMemory(to: UInt8.self)
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &w, &h, &subsampling, &colorspace) != 0 {
            throw ImageIOError.corrupt(path: name, reason: "JPEG header: \(String(cString: tjGetErrorStr2(handle)))")
        }
        let width = Int(w), height = Int(h)
        if width <= 0 || height <= 0 {
            throw ImageIOError.corrupt(path: name, reason: "JPEG header: no frame size (file truncated?)")
        }
        try checkSize(width: width, height: height, name: name)

        let isGray = colorspace == Int32(TJCS_GRAY.rawValue)
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let (pixelFormat, channels) = isGray ? (TJPF_GRAY, 1) : (isCMYK ? (TJPF_CMYK, 4) : (TJPF_RGB, 3))
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
        let rc = pixels.withUnsafeMutableBufferPointer { dst in
            tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, w, 0, h, Int32(pixelFormat.rawValue), flags)
        }
        if rc != 0 {
            // libjpeg warnings also return -1. Pillow ignores warnings except running out of data
            // ("image file is truncated"), so only a premature end (or a real error) is fatal here.
            let message = String(cString: tjGetErrorStr2(handle))
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end") {
                throw ImageIOError.corrupt(path: name, reason: "JPEG data: \(message)")
            }
        }
        var image: Image
        if isCMYK {
            image = Image(width: width, height: height, channels: 3, pixels: cmykToRGB(pixels, count: width * height))
        } else {
            image = Image(width: width, height: height, channels: channels, pixels: pixels)
        }
        return output == .rgb ? image.rgb() : image.gray()
    }

    /// Pillow's `cmyk2rgb` on Adobe-inverted samples (stored s = 255 - ink): R = nk - nk·C/255 (rounded
    /// MULDIV255), nk = 255 - K.
    static func cmykToRGB(_ inverted: [UInt8], count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count * 3)
        inverted.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let nk = Int(src[4 * i + 3])  // 255 - K
                    for c in 0..<3 {
                        let ink = 255 - Int(src[4 * i + c])
                        let t = ink * nk + 128
                        let v = nk - (((t >> 8) + t) >> 8)
                        dst[3 * i + c] = UInt8(clamping: v)
                    }
                }
            }
        }
        return out
    }
}
