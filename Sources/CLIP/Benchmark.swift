import Foundation
import Tensor

/// Timing helpers for `clipad bench`.
public enum Benchmark {
    /// Runs `body` once to warm up, then `runs` times, returning wall-clock seconds per run.
    public static func measure(runs: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try body()
        return try (0..<max(runs, 1)).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Floating-point operation counts (multiply-add = 2) of encoder forwards, for GFLOP/s figures.
public enum EncoderFLOPs {
    /// One transformer block on T tokens of width W with MLP width M.
    public static func block(tokens t: Double, width w: Double, mlp m: Double) -> Double {
        2 * t * w * 3 * w + 2 * 2 * t * t * w + 2 * t * w * w + 2 * 2 * t * w * m
    }

    public static func vision(_ v: VisionTransformer, imageSize: Int) -> Double {
        let g = Double(imageSize / v.patchSize), t = g * g + 1, w = Double(v.width)
        let patch = 2 * g * g * Double(3 * v.patchSize * v.patchSize) * w
        let blocks = v.blocks.reduce(0) { $0 + block(tokens: t, width: w, mlp: Double($1.fcWeight.shape[0])) }
        return patch + blocks + 2 * w * Double(v.outputDim)
    }
}

/// The process's peak resident memory, for benchmark reports.
public enum PeakMemory {
    /// Maximum resident set size so far, in MiB (getrusage: KiB on Linux, bytes on macOS).
    public static var mebibytes: Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576
        #endif
    }
}
