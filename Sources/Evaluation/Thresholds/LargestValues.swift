/// The k-th largest of a stream of values, exactly, in O(k) memory: candidates are buffered, and whenever the buffer
/// reaches 2k it is cut back to its k largest, which raises the floor below which new values are skipped. Used for
/// pixel thresholds over hundreds of full-size maps without keeping them.
public struct LargestValues {
    public let k: Int
    private var buffer: [Float] = []
    /// Values at or below this are not among the k largest of what was seen (once k values are held).
    private var floor = -Float.infinity
    public private(set) var seen = 0

    public init(k: Int) {
        precondition(k >= 1, "LargestValues: k must be at least 1")
        self.k = k
        buffer.reserveCapacity(2 * k)
    }

    public mutating func add(_ values: [Float]) {
        seen += values.count
        for v in values where v > floor || buffer.count < k {
            buffer.append(v)
            if buffer.count >= 2 * k { prune() }
        }
    }

    /// The j-th largest value seen, for 1 <= j <= k (nil before j values).
    public mutating func largest(_ j: Int) -> Float? {
        precondition(j >= 1 && j <= k, "LargestValues: rank \(j) outside 1...\(k)")
        guard seen >= j else { return nil }
        prune()
        buffer.sort(by: >)
        return buffer[j - 1]
    }

    /// How many values seen are strictly above `t`, for t no smaller than the k-th largest (so all are held).
    public func count(above t: Float) -> Int { buffer.filter { $0 > t }.count }

    private mutating func prune() {
        guard buffer.count > k else { return }
        buffer.sort(by: >)
        buffer.removeLast(buffer.count - k)
        floor = buffer[k - 1]
    }
}
