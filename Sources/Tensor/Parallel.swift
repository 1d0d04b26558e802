import Dispatch

/// Parallel loops over independent work items.
public enum Parallel {
    /// Number of worker threads used by `forEach`: those of the process's execution context (its active cores).
    public static var workers: Int { ExecutionContext.shared.workers }

    /// Runs `body(i)` for i in 0..<count, split into contiguous chunks across cores.
    /// OpenBLAS is limited to one thread meanwhile, so GEMMs inside `body` do not oversubscribe the cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count) { chunk in for i in chunk { body(i) } }
    }

    /// Like `forEach`, but hands each core its whole contiguous chunk, so per-chunk scratch is allocated once.
    public static func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 1 || workers <= 1 {
            body(0..<count)
            return
        }
        let chunks = min(count, workers)
        BLAS.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                body(count * c / chunks ..< count * (c + 1) / chunks)
            }
        }
    }

    /// Runs `body` on contiguous sub-ranges that cover 0..<count, one per core, when each gets at least
    /// `minimumPerWorker` items (elementwise kernels on activations); smaller counts run inline on this thread.
    /// Without this a 2-core machine leaves one core idle for every layer norm, activation and residual add.
    public static func ranges(_ count: Int, minimumPerWorker: Int = 1 << 14, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, count / max(minimumPerWorker, 1))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(count * c / chunks ..< count * (c + 1) / chunks)
        }
    }

    /// `ranges` over the rows of a [rows, width] matrix: split when each core gets at least 16k floats of rows.
    public static func rows(_ rows: Int, width: Int, _ body: (Range<Int>) -> Void) {
        ranges(rows, minimumPerWorker: max(1, (1 << 14) / max(width, 1)), body)
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

/// `items` cut into blocks of a fixed size rather than one per core, so partial sums taken per block on all cores
/// and added in block order give the same result on any number of cores.
public struct FixedBlocks: Sendable {
    public static let size = 1 << 16
    /// Number of blocks.
    public let count: Int
    let items: Int

    public init(items: Int) {
        self.items = items
        count = (items + Self.size - 1) / Self.size
    }

    public func range(_ block: Int) -> Range<Int> { block * Self.size ..< min(items, (block + 1) * Self.size) }
}
