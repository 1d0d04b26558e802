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
                XCTAssertEqual(got.count, f.output.count)
                for (g, w) in zip(got.scalars, f.output) {
                    guard g.isFinite else { return XCTFail("shape \(c.shape) sigma \(f.sigma): non-finite output \(g)") }
                    worst = max(worst, abs(g - w))
                }
                XCTAssertLessThanOrEqual(worst / scale, 1e-6, "shape \(c.shape) sigma \(f.sigma): max relative error \(worst / scale)")
            }
        }
    }

    /// The eight-column path against the plain definition (each output's taps summed in order in Float64): equal bit
    /// for bit, on widths below, at and off multiples of 8 and radii larger than the plane.
    func testVectorPathEqualsScalarDefinition() {
        var rng = SeededGenerator(seed: 7)
        for (h, w, sigma) in [(224, 224, 4.0), (5, 3, 1.0), (9, 17, 2.5), (1, 40, 4.0), (33, 8, 12.0), (16, 23, 0.0)] {
            let input = Tensor.randomNormal([h, w], std: 1, using: &rng)
            let filter = GaussianFilter(sigma: sigma)
            let got = filter.apply(input).scalars
            let x = input.scalars, r = filter.radius, taps = filter.weights
            var tmp = [Float](repeating: 0, count: h * w), want = tmp
            for y in 0..<h {
                for c in 0..<w {
                    var s = 0.0
                    for k in taps.indices { s += Double(x[GaussianFilter.reflect(y - r + k, h) * w + c]) * taps[k] }
                    tmp[y * w + c] = Float(s)
                }
            }
            for y in 0..<h {
                for c in 0..<w {
                    var s = 0.0
                    for k in taps.indices { s += Double(tmp[y * w + GaussianFilter.reflect(c - r + k, w)]) * taps[k] }
                    want[y * w + c] = Float(s)
                }
            }
            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(h)x\(w) sigma \(sigma)")
        }
    }

    func testReflectIndexing() {
        // scipy "reflect": d c b a | a b c d | d c b a
        XCTAssertEqual((-4..<8).map { GaussianFilter.reflect($0, 4) }, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0])
        XCTAssertEqual(GaussianFilter.reflect(-9, 4), 0)
        XCTAssertEqual(GaussianFilter.reflect(5, 1), 0)
    }
}
