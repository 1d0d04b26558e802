import CFuzzDriver

/// Runs libFuzzer on `body`. SwiftPM links an executable target's entry point as `<Module>_main` (it renames
/// `main` for testability), so each harness defines that symbol and hands libFuzzer's driver its argv here.
public enum FuzzDriver {
    public typealias Body = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: Body) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments, body)
    }
}
