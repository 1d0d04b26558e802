import Checkpoint
import FuzzSupport

// safetensors: header length, JSON header, entry bounds; every tensor that loads is converted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let path = ScratchFile.write(start, count, name: "input.safetensors")
    guard let checkpoint = try? Checkpoint.load(path: path) else { return 0 }
    for entry in checkpoint.tensors.values {
        _ = try? entry.toTensor()
        if !entry.dtype.isFloatingPoint { _ = try? entry.int64Values() }
    }
    return 0
}
