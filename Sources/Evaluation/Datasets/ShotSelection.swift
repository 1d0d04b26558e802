import Tensor

/// Reproducible choice of the k normal images a few-shot method learns from: the candidates in sorted path order,
/// then either all of them or k drawn by a seeded Fisher–Yates shuffle (the same seed always picks the same files).
public enum ShotSelection {
    public struct SelectionError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func choose(from candidates: [String], count: Int?, seed: UInt64) throws -> [String] {
        let sorted = Array(Set(candidates)).sorted()
        guard !sorted.isEmpty else { throw SelectionError(description: "no normal images given for the shots") }
        guard let k = count else { return sorted }
        guard k >= 1 && k <= sorted.count else {
            throw SelectionError(description: "cannot choose \(k) shot(s) from \(sorted.count) image(s)")
        }
        var order = sorted
        var rng = SeededGenerator(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return Array(order.prefix(k))
    }
}
