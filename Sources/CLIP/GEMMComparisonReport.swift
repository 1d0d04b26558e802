import Foundation
import Tensor

/// The GEMM libraries timed on every product of some workloads, and what that says of a choice of library: per
/// product both rates and the choice's pick, per workload its GEMM time under the choice against each library alone
/// (the settings `CLIPAD_GEMM` offers) and against the faster library per product. What `clipad bench sgemm
/// --libraries` prints. It models the products alone: at the workload level the libraries also differ in call
/// overhead and in how their threads share the cores with ClipAD's loops, so a verdict here is a lead to confirm
/// with `CLIPAD_GEMM` pairs of the workload's own bench, not a measurement of it.
public struct GEMMComparisonReport: Sendable {
    public var workloads: [GEMMComparison.Workload]
    public var timings: [GEMMComparison.Timing]
    public var choice: GEMMLibrary.Choice

    /// A workload whose GEMM time under the choice stays within this factor of the faster library alone is served
    /// well (issue 14's target: within 5% of the best setting).
    public static let tolerance = 1.05

    public init(workloads: [GEMMComparison.Workload], timings: [GEMMComparison.Timing], choice: GEMMLibrary.Choice) {
        self.workloads = workloads
        self.timings = timings
        self.choice = choice
    }

    /// Times each distinct product of `workloads` once on both libraries (`runs` alternating pairs).
    public static func measure(_ workloads: [GEMMComparison.Workload], runs: Int,
                               choice: GEMMLibrary.Choice) throws(GEMMComparison.Unavailable) -> GEMMComparisonReport {
        var products: [GEMMComparison.Product] = []
        for w in workloads { for (p, _) in w.products where !products.contains(p) { products.append(p) } }
        var timings: [GEMMComparison.Timing] = []
        for p in products { timings.append(try GEMMComparison.measure(p, runs: runs)) }
        return GEMMComparisonReport(workloads: workloads, timings: timings, choice: choice)
    }

    /// A workload's GEMM seconds per forward pass under the choice, with the faster library per product, and with
    /// each library alone.
    public struct Cost: Sendable, Equatable {
        public var choice: Double, best: Double, openBLAS: Double, oneDNN: Double
        /// The choice's time over the faster library alone's.
        public var choiceOverBestSetting: Double { choice / min(openBLAS, oneDNN) }
    }

    public func cost(of workload: GEMMComparison.Workload) -> Cost {
        func total(_ pick: (GEMMComparison.Timing) -> GEMMLibrary) -> Double {
            GEMMComparison.seconds(of: workload, timings: timings, choosing: pick)
        }
        return Cost(choice: total { GEMMComparison.pick(choice, for: $0.product) }, best: total(\.faster),
                    openBLAS: total { _ in .openBLAS }, oneDNN: total { _ in .oneDNN })
    }

    /// The workloads whose GEMM time under the choice is more than `tolerance` times the faster library alone's.
    public var workloadsBeyondTolerance: [GEMMComparison.Workload] {
        workloads.filter { cost(of: $0).choiceOverBestSetting > Self.tolerance }
    }

    /// The table: per workload its products (rates, the choice's pick, pick / faster time) and its GEMM time per
    /// forward under the choice, each library alone and the faster library per product.
    public var lines: [String] {
        var out: [String] = []
        for w in workloads {
            out.append(w.name)
            for (p, count) in w.products {
                guard let t = timings.first(where: { $0.product == p }) else { continue }
                let pick = GEMMComparison.pick(choice, for: p)
                let what = "  " + Self.padded(p.label, 27) + Self.padded(p.shape, 15)
                    + (p.transposedB ? "B transposed    " : "B untransposed  ") + (p.singleThread ? "1 thread " : "\(BLAS.threads) threads")
                out.append(what + String(format: " x%-5d OpenBLAS %6.1f  oneDNN %6.1f GFLOP/s  pick %@ %.2f", count,
                                         t.gflops(.openBLAS), t.gflops(.oneDNN), pick.description, t.seconds(pick) / t.best))
            }
            let c = cost(of: w)
            out.append(String(format: "  GEMM per forward: %.4f s as chosen; OpenBLAS alone %.2fx that, oneDNN alone %.2fx, the faster library per product %.2fx",
                              c.choice, c.openBLAS / c.choice, c.oneDNN / c.choice, c.best / c.choice))
        }
        return out
    }

    /// One line: on how many workloads the choice's GEMM time is within `tolerance` of the faster library alone's,
    /// and which it is not.
    public var summary: String {
        let beyond = workloadsBeyondTolerance
        let verdict = beyond.isEmpty
            ? "GEMM time within \(Self.percent) of the faster library alone on all \(workloads.count) workloads"
            : "GEMM time within \(Self.percent) of the faster library alone on \(workloads.count - beyond.count) of \(workloads.count) workloads; beyond it: "
                + beyond.map { String(format: "%@ (%.2fx)", $0.name, cost(of: $0).choiceOverBestSetting) }.joined(separator: ", ")
        return "GEMM choice (\(choice)): \(verdict)"
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static var percent: String { String(format: "%.0f%%", (tolerance - 1) * 100) }
}
