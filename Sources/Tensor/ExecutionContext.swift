import Foundation

/// The one owner of the machine's cores in a process: ClipAD's parallel loops and OpenBLAS's threads.
///
/// OpenBLAS's thread count is process-wide, and `Parallel` drops it to one while our own workers each run a
/// one-thread GEMM. Two callers doing that at once (two detectors, or a server's concurrent requests) would race on
/// that setting and run 2 x cores threads. So compute that uses the cores is entered through `run`, which admits
/// one caller at a time (a recursive lock: nested calls on the same thread go straight through); inside it the
/// caller has every core, and the BLAS setting is private to it. Concurrent callers queue instead of
/// oversubscribing; batching them is the caller's business (the server batches its queue).
public final class ExecutionContext: @unchecked Sendable {
    /// The process's context: all active cores.
    public static let shared = ExecutionContext(workers: System.activeProcessorCount)

    /// Worker threads ClipAD's parallel loops use.
    public let workers: Int
    private let gate = NSRecursiveLock()
    private let counters = NSLock()
    private var active = 0
    private var peak = 0

    init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Runs `body` with the cores to itself; other callers wait until it returns.
    public func run<R>(_ body: () throws -> R) rethrows -> R {
        gate.lock()
        defer { gate.unlock() }
        let key = "clipad.execution-context.depth"
        let depth = (Thread.current.threadDictionary[key] as? Int) ?? 0
        Thread.current.threadDictionary[key] = depth + 1
        if depth == 0 { counters.lock(); active += 1; peak = max(peak, active); counters.unlock() }
        defer {
            Thread.current.threadDictionary[key] = depth
            if depth == 0 { counters.lock(); active -= 1; counters.unlock() }
        }
        return try body()
    }

    /// The most callers that were ever inside `run` at once, a nested call counted once (tests).
    public var peakConcurrentCallers: Int {
        counters.lock(); defer { counters.unlock() }
        return peak
    }
}
