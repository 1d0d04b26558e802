import Foundation

/// A one-line progress display on standard error (count, items/s, ETA), redrawn in place on a terminal.
struct ProgressLine {
    let total: Int
    let label: String
    private var done = 0
    private let start = Date()
    private let isTerminal = isatty(STDERR_FILENO) == 1

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    mutating func advance(note: String = "") {
        done += 1
        guard isTerminal else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        let width = 24, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        write(String(format: "\r%@ %@ %d/%d  %.2f/s  ETA %.0fs %@ ", label, bar, done, total, rate, eta, note))
    }

    /// Prints a message on its own line without breaking the bar.
    func interrupt(_ message: String) {
        write((isTerminal ? "\r\u{1B}[K" : "") + message + "\n")
    }

    func finish(_ message: String) {
        let elapsed = Date().timeIntervalSince(start)
        write((isTerminal ? "\r\u{1B}[K" : "") + message + String(format: " (%.1f s)\n", elapsed))
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
