#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// oneDNN's sgemm, loaded at run time from `libdnnl.so.2` (Debian: libdnnl2) when the system has it.
///
/// Loaded with dlopen rather than linked so that ClipAD builds and runs without it (OpenBLAS then does every
/// product). Debian's oneDNN uses the OpenMP runtime; its thread count is a per-thread setting (`omp_set_num_threads`
/// in the calling thread), set before each call to the number of threads OpenBLAS would use there, so a call
/// inside our own parallel loops runs on one thread and one outside it on all cores.
struct OneDNN: @unchecked Sendable {  // immutable pointers to thread-safe C functions
    /// `dnnl_sgemm(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)`: row-major, C = αAB + βC.
    typealias SGEMM = @convention(c) (CChar, CChar, Int64, Int64, Int64, Float, UnsafePointer<Float>?, Int64,
                                      UnsafePointer<Float>?, Int64, Float, UnsafeMutablePointer<Float>?, Int64) -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias Version = @convention(c) () -> UnsafePointer<Int32>?
    typealias CPUISA = @convention(c) () -> UInt32

    /// The soname ClipAD looks for (oneDNN 2.x and 3.x keep the C sgemm entry point under this name).
    static let libraryName = "libdnnl.so.2"

    let sgemm: SGEMM
    let setThreads: SetThreads
    /// "oneDNN 2.6.3 (avx2)": version and the instruction set its kernels were generated for.
    let description: String

    /// The loaded library, or why it could not be loaded (one line).
    static func load(_ name: String = libraryName) -> Result<OneDNN, LoadFailure> {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(LoadFailure(reason: dlerror().map { String(cString: $0) } ?? "\(name): cannot be loaded"))
        }
        // omp_set_num_threads comes from the OpenMP runtime oneDNN depends on; dlsym on the handle searches it too.
        guard let sgemm = dlsym(handle, "dnnl_sgemm"), let setThreads = dlsym(handle, "omp_set_num_threads") else {
            return .failure(LoadFailure(reason: "\(name) has no dnnl_sgemm / omp_set_num_threads (not an OpenMP build?)"))
        }
        var description = "oneDNN"
        if let versionSymbol = dlsym(handle, "dnnl_version"),
           let version = unsafeBitCast(versionSymbol, to: Version.self)() {
            description += " \(version[0]).\(version[1]).\(version[2])"
        }
        if let isaSymbol = dlsym(handle, "dnnl_get_effective_cpu_isa") {
            description += " (\(isaName(unsafeBitCast(isaSymbol, to: CPUISA.self)())))"
        }
        return .success(OneDNN(sgemm: unsafeBitCast(sgemm, to: SGEMM.self),
                               setThreads: unsafeBitCast(setThreads, to: SetThreads.self), description: description))
    }

    struct LoadFailure: Error, Equatable {
        let reason: String
    }

    /// oneDNN's `dnnl_cpu_isa_t` values (oneDNN 2.x `dnnl_types.h`), named as its `ONEDNN_MAX_CPU_ISA` spells them.
    static func isaName(_ isa: UInt32) -> String {
        switch isa {
        case 0x1: "sse41"
        case 0x3: "avx"
        case 0x7: "avx2"
        case 0x407: "avx2_vnni"
        case 0x27: "avx512_core"
        case 0x67: "avx512_core_vnni"
        case 0xe7: "avx512_core_bf16"
        case 0x3e7: "avx512_core_amx"
        default: "isa 0x\(String(isa, radix: 16))"
        }
    }

    /// One product on `threads` OpenMP threads of this calling thread. False when oneDNN refused the arguments
    /// (it validates them; our callers pass consistent shapes, so the caller falls back rather than trusting it).
    @inline(__always)
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
              b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
              threads: Int) -> Bool {
        setThreads(Int32(threads))
        let n_ = CChar(UInt8(ascii: "N")), t_ = CChar(UInt8(ascii: "T"))
        return sgemm(transA ? t_ : n_, transB ? t_ : n_, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                     b, Int64(ldb), beta, c, Int64(ldc)) == 0
    }
}
