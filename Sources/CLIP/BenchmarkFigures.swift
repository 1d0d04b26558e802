import Foundation
import Tensor

/// The machine's sgemm rate for one shape, measured in the same process right after a workload, so the workload's
/// share of it (and its distance from the pure-GEMM floor: its FLOPs at that rate) compares like with like.
public enum SGEMMRate {
    /// GFLOP/s of a linear layer x[m, k] · W (W [out n, in k] held input-major, as the models hold it), median of
    /// `runs` after one warm-up.
    public static func measure(m: Int, n: Int, k: Int, runs: Int = 7) -> Double {
        var rng = SeededGenerator(seed: 3)
        let a = Tensor.randomNormal([m, k], std: 1, using: &rng)
        let b = LinearWeight(Tensor.randomNormal([n, k], std: 1, using: &rng))
        let median = Benchmark.median(Benchmark.measure(runs: runs) { _ = a.linear(b) })
        return 2 * Double(m) * Double(n) * Double(k) / median / 1e9
    }

    /// "sgemm MxNxK R GFLOP/s: P% of it, F x the GEMM floor" for a workload of `flops` taking `seconds`, measuring
    /// the rate on the workload's own MLP shape now.
    public static func comparison(flops: Double, seconds: Double, m: Int, n: Int, k: Int) -> String {
        let rate = measure(m: m, n: n, k: k)
        let achieved = flops / seconds / 1e9
        return String(format: "sgemm %dx%dx%d %.1f GFLOP/s: %.0f%% of it, %.2fx the GEMM floor", m, n, k, rate,
                      100 * achieved / rate, rate / achieved)
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
        let blocks = v.blocks.reduce(0) { $0 + block(tokens: t, width: w, mlp: Double($1.fcWeight.outFeatures)) }
        return patch + blocks + 2 * w * Double(v.outputDim)
    }

    /// A dual-path forward (DPAM / V-V attention, `VisionTransformer.forwardDualPath`): the plain forward plus, per
    /// dual block, the V-V attention (scores and weighted sum) and its out_proj, minus what a class-token-only last
    /// original path leaves out (attention output, out_proj and MLP of the T-1 patch tokens).
    public static func dualPath(_ v: VisionTransformer, imageSize: Int, dualBlocks: Int, finalClassTokenOnly: Bool) -> Double {
        let g = Double(imageSize / v.patchSize), t = g * g + 1, w = Double(v.width)
        let m = Double(v.blocks[v.blocks.count - 1].fcWeight.outFeatures)
        let valueValue = Double(dualBlocks) * (2 * 2 * t * t * w + 2 * t * w * w)
        let skipped = finalClassTokenOnly ? (t - 1) * (2 * 2 * t * w + 2 * w * w + 2 * 2 * w * m) : 0
        return vision(v, imageSize: imageSize) + valueValue - skipped
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
