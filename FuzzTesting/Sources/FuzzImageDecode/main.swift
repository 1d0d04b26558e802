import Foundation
import FuzzSupport
import ImageIO

// PNG (libspng) and JPEG (libturbojpeg) decoding to RGB and gray.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecode(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = try? ImageDecoder.decode(data: data, name: "input", output: .rgb)
    _ = try? ImageDecoder.decode(data: data, name: "input", output: .gray)
    return 0
}

/// The process entry point (see `FuzzDriver`).
@_cdecl("FuzzImageDecode_main")
public func fuzzImageDecodeMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzImageDecode)
}
