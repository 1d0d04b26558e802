/// The sliding windows of one WinCLIP scale on a g x g patch grid (anomalib `make_masks`, an `unfold` of the patch
/// indices): windows in row-major order of their top-left corner, each window's patch indices row-major, stride 1.
public struct WindowMasks: Sendable, Equatable {
    public let grid: Int
    public let kernel: Int
    /// Patch indices (row-major on the grid) of each window.
    public let windows: [[Int]]

    public init(grid: Int, kernel: Int, stride: Int = 1) throws {
        guard kernel >= 1, stride >= 1, grid >= kernel else {
            throw WinCLIPError.badConfiguration("window size \(kernel) does not fit the \(grid)x\(grid) patch grid")
        }
        self.grid = grid
        self.kernel = kernel
        var windows: [[Int]] = []
        for top in Swift.stride(from: 0, through: grid - kernel, by: stride) {
            for left in Swift.stride(from: 0, through: grid - kernel, by: stride) {
                windows.append((0..<kernel).flatMap { dy in (0..<kernel).map { dx in (top + dy) * grid + left + dx } })
            }
        }
        self.windows = windows
    }

    /// Per-patch harmonic mean of the scores of the windows that cover it (anomalib `harmonic_aggregation`):
    /// n_p / Σ_{w ∋ p} 1/s_w. A zero window score makes its patches 0 (1/0 = ∞), as `nan_to_num(posinf=0)` leaves it.
    public func harmonicAggregation(_ windowScores: [Float]) -> [Float] {
        precondition(windowScores.count == windows.count, "harmonicAggregation: \(windowScores.count) scores for \(windows.count) windows")
        var inverseSums = [Float](repeating: 0, count: grid * grid), counts = [Float](repeating: 0, count: grid * grid)
        for (w, patches) in windows.enumerated() {
            let inverse = 1 / windowScores[w]
            for p in patches { inverseSums[p] += inverse; counts[p] += 1 }
        }
        return (0..<(grid * grid)).map { p in
            let v = counts[p] / inverseSums[p]
            return v.isFinite ? v : 0
        }
    }
}
