import Evaluation
import FuzzSupport

// CSV and JSONL sample lists (the same bytes read both ways).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDatasetList(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    for name in ["list.csv", "list.jsonl"] {
        let path = ScratchFile.write(start, count, name: name)
        _ = try? ListDataset(path: path).samples(split: .test, classes: nil)
    }
    return 0
}

/// The process entry point (see `FuzzDriver`).
@_cdecl("FuzzDatasetList_main")
public func fuzzDatasetListMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzDatasetList)
}
