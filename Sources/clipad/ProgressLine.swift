import Foundation

/// Progress on standard error: on a terminal a one-line bar (count, items/s, ETA) redrawn in place; otherwise
/// (logs, CI) a plain line every `plainInterval` seconds (5, or CLIPAD_PROGRESS_SECONDS), so a long run is never silent.
struct ProgressLine {
    let total: Int
    let label: String
    private var done = 0
    private let start = Date()
    private var lastPlain = Date()
    private let isTerminal = isatty(STDERR_FILENO) == 1
    static let plainInterval: TimeInterval =
        ProcessInfo.processInfo.environment["CLIPAD_PROGRESS_SECONDS"].flatMap(TimeInterval.init) ?? 5

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    mutating func advance(note: String = "") {
        done += 1
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        if isTerminal {
            let width = 24, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write(String(format: "\r%@ %@ %d/%d  %.2f/s  ETA %.0fs %@ ", label, bar, done, total, rate, eta, note))
        } else if Date().timeIntervalSince(lastPlain) >= Self.plainInterval && done < total {
            lastPlain = Date()
            write(String(format: "%@: %d/%d  %.2f/s  ETA %.0fs %@\n", label, done, total, rate, eta, note))
        }
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
