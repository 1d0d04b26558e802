import Foundation
import XCTest
@testable import Tensor

/// GaussianFilter against scipy.ndimage.gaussian_filter (tools/fixtures/make_gaussian_fixtures.py).
final class GaussianFilterTests: XCTestCase {
    struct Fixture: Decodable {
        struct Filtered: Decodable { let sigma: Double; let truncate: Double; let radius: Int; let output: [Float] }
        struct Case: Decodable { let shape: [Int]; let input: [Float]; let filtered: [Filtered] }
        let cases: [Case]
    }

    func testMatchesScipyIncludingSmallAndNarrowPlanes() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "gaussian", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertFalse(fixture.cases.isEmpty)
        for c in fixture.cases {
            let input = Tensor(shape: c.shape, scalars: c.input)
            for f in c.filtered {
                let filter = GaussianFilter(sigma: f.sigma, truncate: f.truncate)
                XCTAssertEqual(filter.radius, f.radius)
                let got = filter.apply(input)
                let scale = f.output.map(abs).max() ?? 1
                var worst: Float = 0
                for (g, w) in zip(got.scalars, f.output) { worst = max(worst, abs(g - w)) }
                XCTAssertLessThanOrEqual(worst / scale, 1e-6, "shape \(c.shape) sigma \(f.sigma): max relative error \(worst / scale)")
            }
        }
    }

    func testReflectIndexing() {
        // scipy "reflect": d c b a | a b c d | d c b a
        XCTAssertEqual((-4..<8).map { GaussianFilter.reflect($0, 4) }, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0])
        XCTAssertEqual(GaussianFilter.reflect(-9, 4), 0)
        XCTAssertEqual(GaussianFilter.reflect(5, 1), 0)
    }
}
