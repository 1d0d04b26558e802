import Dispatch

/// Timing helpers for `clipad bench` and `GEMMComparison`.
public enum Benchmark {
    /// Wall-clock seconds of one call of `body`.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Runs `body` once to warm up, then `runs` times, returning wall-clock seconds per run.
    public static func measure(runs: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try body()
        return try (0..<max(runs, 1)).map { _ in try seconds(body) }
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
