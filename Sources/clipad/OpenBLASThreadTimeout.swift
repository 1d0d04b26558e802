#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS's idle worker threads spin (sched_yield) for about 2^28 cycles after each parallel GEMM before they sleep.
/// While our own two threads run per-head attention or other loops, that spinning takes a core from them (6-8% of
/// samples in `perf`). OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (2^n cycles, n in 4...30) only when the library loads,
/// so the CLI sets it and re-executes itself once at start; a value the user already set is kept.
/// Measured: AnomalyCLIP ViT-L/14@518 8.61/8.89 s instead of 9.08/9.61 s per image (benchmarks/RESULTS.md).
enum OpenBLASThreadTimeout {
    static let variable = "OPENBLAS_THREAD_TIMEOUT"

    static func applyByReexecutingIfNeeded() {
        #if os(Linux)
        guard getenv(variable) == nil else { return }
        setenv(variable, "4", 1)
        // Only returns on failure, in which case the run simply goes on with OpenBLAS's default.
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
