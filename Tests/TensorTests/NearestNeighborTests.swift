import XCTest
@testable import Tensor

final class NearestNeighborTests: XCTestCase {
    /// Blocked GEMM search against a plain double loop, with a bank split over several blocks.
    func testMinCosineDistanceMatchesPlainLoop() {
        var rng = SeededGenerator(seed: 5)
        let queries = Tensor.randomNormal([7, 12], mean: 0, std: 1, using: &rng).l2Normalized()
        let bank = Tensor.randomNormal([23, 12], mean: 0, std: 1, using: &rng).l2Normalized()
        let fast = queries.minCosineDistance(to: bank, blockRows: 5)
        for i in 0..<7 {
            var best = Float.infinity
            for j in 0..<23 {
                var dot: Float = 0
                for c in 0..<12 { dot += queries[flat: i * 12 + c] * bank[flat: j * 12 + c] }
                best = min(best, (1 - dot) / 2)
            }
            XCTAssertEqual(fast[flat: i], best, accuracy: 1e-6)
        }
        // A query that is in the bank is at distance 0.
        XCTAssertEqual(bank.slice(rows: 3..<4).minCosineDistance(to: bank)[flat: 0], 0, accuracy: 1e-6)
    }
}
