#if canImport(Glibc)
import Glibc
#endif

/// Environment settings that OpenBLAS, OpenMP and glibc read only when the process starts, so the CLI sets the missing
/// ones and re-executes itself once (a value the user already set is kept). A program that links ClipADKit gets the
/// same kernels and settings by calling `applyByReexecutingIfNeeded()` first thing in `main`.
///
/// - OPENBLAS_THREAD_TIMEOUT=4: OpenBLAS's idle workers spin (sched_yield) for about 2^28 cycles after each parallel
///   GEMM; while our own two threads run per-head attention that takes a core from them (6-8% of `perf` samples).
///   Measured: AnomalyCLIP ViT-L/14@518 8.61/8.89 s instead of 9.08/9.61 s per image.
/// - OMP_WAIT_POLICY=passive: oneDNN's OpenMP workers otherwise spin after each product and take the cores from
///   ClipAD's own parallel loops between products (ViT-B/16 batch 1 on Zen 4: 0.18-0.24 s spinning, 0.18-0.20 s
///   passive; ViT-L/14@336 2.39 s against 1.96 s). libgomp reads it when oneDNN loads it.
/// - MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ = 1 GiB: glibc otherwise serves each large activation tensor
///   with fresh mmap pages and unmaps it on free, so every layer's buffers are page-faulted and zeroed by the kernel
///   anew (~2% of ViT-B/16's samples were page faults); with these, freed buffers stay in the heap for the next layer.
/// - OPENBLAS_CORETYPE (+ a note of OpenBLAS's own choice), only when OpenBLAS chose kernels narrower than the CPU:
///   `KernelSelection.environmentDefaults()` (Tensor) decides.
public enum ProcessEnvironment {
    public static let defaults: [(name: String, value: String)] = [
        ("OPENBLAS_THREAD_TIMEOUT", "4"),
        ("OMP_WAIT_POLICY", "passive"),
        ("MALLOC_MMAP_THRESHOLD_", "1073741824"),
        ("MALLOC_TRIM_THRESHOLD_", "1073741824"),
    ] + KernelSelection.environmentDefaults()

    /// Sets the missing defaults and re-executes the program (`/proc/self/exe`, same arguments) once; returns at once
    /// when nothing was missing, and on failure to re-execute (the run then goes on with the libraries' defaults).
    public static func applyByReexecutingIfNeeded() {
        #if os(Linux)
        var changed = false
        for (name, value) in defaults where getenv(name) == nil {
            setenv(name, value, 1)
            changed = true
        }
        guard changed else { return }
        // Only returns on failure, in which case the run simply goes on with the libraries' defaults.
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
