import Checkpoint
import FuzzSupport

// safetensors: header length, JSON header, entry bounds; every tensor that loads is converted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let path = ScratchFile.write(start, count, name: "input.safetensors")
    guard let checkpoint = try? Checkpoint.load(path: path) else { return 0 }
    for entry in checkpoint.tensors.values {
        _ = try? entry.toTensor()
        if !entry.dtype.isFloatingPoint { _ = try? entry.int64Values() }
    }
    return 0
}

/// The process entry point (see `FuzzDriver`).
@_cdecl("FuzzSafetensors_main")
public func fuzzSafetensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzSafetensors)
}
