import Foundation
import ImageIO

// PNG (libspng) and JPEG (libturbojpeg) decoding to RGB and gray.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecode(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = try? ImageDecoder.decode(data: data, name: "input", output: .rgb)
    _ = try? ImageDecoder.decode(data: data, name: "input", output: .gray)
    return 0
}
