import Foundation

/// The fixed-width metrics table both reports print on the terminal (one evaluation, or mean ± std over seeds):
/// the class column left-aligned, the rest right-aligned, a rule under the header and above the last (mean) row.
enum MetricsTable {
    static let headers = ["class", "images", "I-AUROC", "I-AP", "I-F1max", "P-AUROC", "P-AP", "P-F1max", "AUPRO"]

    /// rows: one per class then the mean row last, each as many cells as `headers`.
    static func text(rows: [[String]], title: String? = nil) -> String {
        let widths = headers.indices.map { i in max(headers[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, s in
                i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - s.count) + s
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        let body = rows.isEmpty ? [] : rows.dropLast().map(line) + [rule, line(rows[rows.count - 1])]
        return ((title.map { [$0] } ?? []) + [line(headers), rule] + body).joined(separator: "\n") + "\n"
    }
}
