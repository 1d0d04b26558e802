import ArgumentParser
import CLIP
import Foundation
import Tensor

/// `clipad bench ...`: a measuring harness (median of repeated runs), never a test.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure throughput (medians of repeated runs).",
        subcommands: [BenchEncoder.self, BenchAnomalyCLIP.self, BenchPromptAD.self, BenchEval.self, BenchMetrics.self, BenchSGEMM.self,
                      BenchCheckpoint.self])
}

struct BenchEncoder: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encoder", abstract: "Vision encoder images/s and GFLOP/s.")

    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Bundled architecture with random weights when no --clip is given: \(CLIPArchitecture.bundledNames.joined(separator: ", ")).")
    var arch: String = "ViT-B-16"
    @Option(name: .customLong("image-size"), help: "Input side in pixels (default: the model's own).") var imageSize: Int?
    @Option(name: .customLong("batch-size"), help: "Images per forward pass.") var batchSize: Int = 1
    @Option(name: .customLong("batch"), help: .hidden) var legacyBatch: Int?   // the old spelling, kept for one release
    var batch: Int { legacyBatch ?? batchSize }
    @Option(help: "Timed repetitions (after one warm-up).") var runs: Int = 5

    func run() throws {
        let model = clipOptions.clip == nil
            ? try CLIPModel.random(CLIPArchitecture.bundled(arch), seed: 1, activation: clipOptions.activation)
            : try clipOptions.loadModel()
        let size = imageSize ?? model.vision.nativeImageSize
        var rng = SeededGenerator(seed: 2)
        try model.vision.validate(imageShape: [batch, 3, size, size])
        try model.vision.checkMemory(batch: batch, height: size, width: size)
        let images = Tensor.randomNormal([batch, 3, size, size], std: 1, using: &rng)
        let timings = Benchmark.measure(runs: runs) { _ = model.encodeImage(images) }
        let flops = EncoderFLOPs.vision(model.vision, imageSize: size) * Double(batch)
        let median = Benchmark.median(timings)
        print(String(format: "encoder %@ @%d batch %d: median %.3f s  %.2f images/s  %.1f GFLOP/s  peak memory %.0f MiB  (%d runs, BLAS threads %d)",
                     clipOptions.clip ?? arch, size, batch, median, Double(batch) / median, flops / median / 1e9,
                     PeakMemory.mebibytes, runs, BLAS.threads))
        let g = size / model.vision.patchSize
        print("  " + SGEMMRate.comparison(flops: flops, seconds: median, m: batch * (g * g + 1),
                                          n: model.vision.blocks[0].fcWeight.outFeatures, k: model.vision.width))
        KernelSelection.reportLines.forEach { print("  " + $0) }
    }
}

struct BenchSGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgemm",
        abstract: "The machine's sgemm rate for encoder-shaped products.",
        discussion: """
            Without --m/--n/--k: the MLP product (tokens x batch, MLP width, width) of each workload `bench encoder` and `bench anomalyclip` measure.
            With --libraries: every product of those workloads' towers (and two text towers) on OpenBLAS and on oneDNN, alternating, and each workload's GEMM time under this process's choice of library against each library alone and the faster library per product: a lead to confirm with CLIPAD_GEMM pairs of the workload's own bench.
            """)
    @Option(help: "Rows (tokens x batch).") var m: Int?
    @Option(help: "Output columns.") var n: Int?
    @Option(help: "Inner dimension.") var k: Int?
    @Option(help: "Timed repetitions.") var runs: Int = 7
    @Flag(help: "Time both GEMM libraries on each product and check this process's choice of library against the faster one.")
    var libraries = false

    /// (workload, m, n, k): the c_fc product of one block.
    static let workloads: [(String, Int, Int, Int)] = [
        ("ViT-B/16 @224 batch 1", 197, 3072, 768),
        ("ViT-B/16 @224 batch 8", 8 * 197, 3072, 768),
        ("ViT-B/16+ @240 batch 8", 8 * 226, 3584, 896),
        ("ViT-L/14 @336 batch 1", 577, 4096, 1024),
        ("ViT-L/14 @518 batch 1", 1370, 4096, 1024),
    ]

    func validate() throws {
        let given = [m, n, k].compactMap { $0 }
        guard given.isEmpty || given.count == 3 else { throw ValidationError("give all of --m, --n and --k, or none") }
        guard given.allSatisfy({ $0 > 0 }) else { throw ValidationError("--m, --n and --k must be positive") }
        if let m, let n, let k {
            // A, B and C of the product.
            let total = [MemoryBudget.product([m, k]), MemoryBudget.product([k, n]), MemoryBudget.product([m, n])]
                .reduce(Optional(0)) { sum, x in sum.flatMap { s in x.flatMap { s.addingReportingOverflow($0).overflow ? nil : s + $0 } } }
            do { try MemoryBudget.check(elements: total, for: "sgemm \(m)x\(n)x\(k)") } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        if libraries { return try compareLibraries() }
        let shapes = m.map { m in [("", m, n!, k!)] } ?? Self.workloads
        for (name, m, n, k) in shapes {
            let rate = SGEMMRate.measure(m: m, n: n, k: k, runs: runs)
            print(String(format: "sgemm %dx%dx%d: median %.4f s  %.1f GFLOP/s  (%@, BLAS threads %d)%@", m, n, k,
                         2 * Double(m) * Double(n) * Double(k) / rate / 1e9, rate,
                         GEMMLibrary.library(forRows: m, transposedB: false).description, BLAS.threads, name.isEmpty ? "" : "  " + name))
        }
        KernelSelection.reportLines.forEach { print("  " + $0) }
    }

    /// `--libraries`: the comparison table and its verdict.
    func compareLibraries() throws {
        let workloads = try m.map { m in
            [GEMMComparison.Workload(name: "sgemm \(m)x\(n!)x\(k!)", products: [(.init(m: m, n: n!, k: k!, label: "product"), 1)])]
        } ?? GEMMWorkloads.benchmarked()
        KernelSelection.reportLines.forEach { print($0) }
        print("each product: median of \(runs) runs per library, the libraries alternating; pick = the chosen library's time over the faster one's")
        let report = try GEMMComparisonReport.measure(workloads, runs: runs, choice: GEMMLibrary.active)
        report.lines.forEach { print($0) }
        print(report.summary)
    }
}
