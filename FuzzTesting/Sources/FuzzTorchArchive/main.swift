import Checkpoint
import FuzzSupport

// torch.save / torch.jit.save archives: zip directory and CRCs, the restricted unpickler, the TorchScript walk.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchArchive(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let path = ScratchFile.write(start, count, name: "input.pt")
    guard let checkpoint = try? Checkpoint.load(path: path) else { return 0 }
    for entry in checkpoint.tensors.values {
        _ = try? entry.toTensor()
        if !entry.dtype.isFloatingPoint { _ = try? entry.int64Values() }
    }
    return 0
}

/// The process entry point (see `FuzzDriver`).
@_cdecl("FuzzTorchArchive_main")
public func fuzzTorchArchiveMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTorchArchive)
}
