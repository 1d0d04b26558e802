import CSPNG
import Foundation

// MARK: - PNG (libspng)
//
// Pillow's behaviour, checked against Pillow 13 (tools/fixtures/make_image_fixtures.py):
// - 8/16-bit RGB and RGBA open as "RGB"/"RGBA" with 16-bit samples reduced to their HIGH byte
//   (rawmodes "RGB;16B"/"RGBA;16B"); convert("RGB") then drops alpha.
// - 16-bit gray opens as "I;16" and convert("RGB"/"L") SATURATES: v > 255 -> 255, else v (no scaling).
// - 16-bit gray+alpha opens as "RGBA" via rawmode "LA;16B": high byte of the gray sample.
// - 1/2/4-bit gray are scaled to 0...255 (x255, x85, x17); palettes are looked up; tRNS is ignored.
// - convert("L") of colour data uses the L24 luma formula (Image.gray()).

extension ImageDecoder {
    static func decodePNG(_ raw: UnsafeRawBufferPointer, name: String, output: Output) throws -> Image {
        guard let ctx = spng_ctx_new(0) else { throw ImageIOError.corrupt(path: name, reason: "cannot create PNG decoder") }
        defer { spng_ctx_free(ctx) }
        func check(_ rc: Int32, _ what: String) throws {
            if rc != 0 { throw ImageIOError.corrupt(path: name, reason: "\(what): \(String(cString: spng_strerror(rc)))") }
        }
        // Ancillary chunks (text, ICC) are capped so a hostile length cannot allocate much.
        try check(spng_set_chunk_limits(ctx, 1 << 24, 1 << 26), "PNG setup")
        try check(spng_set_png_buffer(ctx, raw.baseAddress, raw.count), "PNG setup")
        var ihdr = spng_ihdr()
        try check(spng_get_ihdr(ctx, &ihdr), "PNG header")
        let width = Int(ihdr.width), height = Int(ihdr.height)
        try checkSize(width: width, height: height, name: name)

        let colorType = UInt32(ihdr.color_type), depth = Int(ihdr.bit_depth)
        let isPalette = colorType == SPNG_COLOR_TYPE_INDEXED.rawValue
        let isGray = colorType == SPNG_COLOR_TYPE_GRAYSCALE.rawValue
        let n = width * height

        // Palettes and gray up to 8 bits: let libspng expand (it scales low bit depths like Pillow).
        // Everything else: the PNG's own samples (host-endian), reduced here the way Pillow does.
        let format: spng_format
        if isPalette { format = SPNG_FMT_RGB8 } else if isGray && depth <= 8 { format = SPNG_FMT_G8 } else { format = SPNG_FMT_PNG }
        var size = 0
        try check(spng_decoded_image_size(ctx, Int32(format.rawValue), &size), "PNG format")
        var decoded = [UInt8](repeating: 0, count: size)
        try decoded.withUnsafeMutableBytes { out in
            try check(spng_decode_image(ctx, out.baseAddress, size, Int32(format.rawValue), 0), "PNG data")
        }

        let image: Image
        switch format {
        case SPNG_FMT_RGB8: image = Image(width: width, height: height, channels: 3, pixels: decoded)
        case SPNG_FMT_G8: image = Image(width: width, height: height, channels: 1, pixels: decoded)
        default:
            // SPNG_FMT_PNG: samples per pixel from the colour type.
            let samples: Int
            switch colorType {
            case SPNG_COLOR_TYPE_GRAYSCALE.rawValue: samples = 1
            case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue: samples = 2
            case SPNG_COLOR_TYPE_TRUECOLOR.rawValue: samples = 3
            case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA.rawValue: samples = 4
            default: throw ImageIOError.corrupt(path: name, reason: "PNG colour type \(colorType)")
            }
            let bytesPerSample = depth == 16 ? 2 : 1
            guard depth == 8 || depth == 16, size == n * samples * bytesPerSample else {
                throw ImageIOError.corrupt(path: name, reason: "PNG bit depth \(depth) with colour type \(colorType)")
            }
            image = reduce(decoded, width: width, height: height, samples: samples, sixteenBit: depth == 16)
        }
        return output == .rgb ? image.rgb() : image.gray()
    }

    /// Native PNG samples -> 8-bit gray (1 channel) or RGB (3 channels), alpha dropped, Pillow's 16-bit rules.
    static func reduce(_ data: [UInt8], width: Int, height: Int, samples: Int, sixteenBit: Bool) -> Image {
        let n = width * height
        let channels = samples <= 2 ? 1 : 3
        var out = [UInt8](repeating: 0, count: n * channels)
        data.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { dst in
                if sixteenBit {
                    let src = raw.bindMemory(to: UInt16.self)  // host-endian from SPNG_FMT_PNG
                    if samples == 1 {
                        // "I;16" -> L/RGB saturates.
                        for i in 0..<n { let v = src[i]; dst[i] = v > 255 ? 255 : UInt8(v) }
                    } else {
                        for i in 0..<n {
                            for c in 0..<channels { dst[i * channels + c] = UInt8(src[i * samples + c] >> 8) }
                        }
                    }
                } else {
                    let src = raw.bindMemory(to: UInt8.self)
                    for i in 0..<n {
                        for c in 0..<channels { dst[i * channels + c] = src[i * samples + c] }
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}
