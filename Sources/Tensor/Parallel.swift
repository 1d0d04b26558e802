import Dispatch

/// Parallel loops over independent work items.
public enum Parallel {
    /// Number of worker threads used by `forEach` (the machine's active cores).
    public static var workers: Int = max(1, System.activeProcessorCount)

    /// Runs `body(i)` for i in 0..<count, split into contiguous chunks across cores.
    /// OpenBLAS is limited to one thread meanwhile, so GEMMs inside `body` do not oversubscribe the cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let chunks = min(count, workers)
        BLAS.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                for i in lo..<hi { body(i) }
            }
        }
    }
}

enum System {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
