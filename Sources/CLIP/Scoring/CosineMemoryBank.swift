import Tensor

/// Features of normal images kept for nearest-neighbour scoring (PromptAD's visual score, WinCLIP+'s visual
/// association score): the anomaly of a query is its smallest (1 − cos) / 2 to any stored row.
public struct CosineMemoryBank: Sendable {
    /// L2-normalised rows [M, D].
    public let rows: Tensor

    /// rows: [M, D] features; normalised here unless `normalised` says they already are.
    public init(rows: Tensor, normalised: Bool = false) {
        self.rows = normalised ? rows : rows.l2Normalized()
    }

    public var count: Int { rows.shape[0] }
    public var dimension: Int { rows.shape[1] }

    /// [N, D] L2-normalised queries -> [N] nearest-neighbour distances (1 − cos) / 2, in [0, 1].
    public func distances(_ queries: Tensor) -> Tensor { queries.minCosineDistance(to: rows) }
}
