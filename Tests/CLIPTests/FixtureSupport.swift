import Checkpoint
import Foundation
import Tensor
import XCTest

/// Access to the committed fixtures and a parity comparison that prints the largest difference.
enum Fixtures {
    static var root: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A reference safetensors file written by a generator under tools/fixtures/.
    static func reference(_ relative: String) throws -> Checkpoint { try Checkpoint.load(path: path(relative)) }
}

/// Largest |got - want| relative to the reference's largest magnitude: the parity measure used in the issues
/// ("max relative error"), robust to elements near zero.
func maxRelativeError(_ got: Tensor, _ want: Tensor) -> Float {
    precondition(got.count == want.count, "compare \(got.shape) with \(want.shape)")
    var diff: Float = 0
    let g = got.data, w = want.data
    for i in 0..<got.count { diff = max(diff, abs(g[i] - w[i])) }
    return diff / max(want.maxAbs, 1e-12)
}

func assertParity(_ got: Tensor, _ want: Tensor, tolerance: Float = 1e-4, _ what: String,
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, "\(what): \(got.shape) vs \(want.shape)", file: file, line: line)
    guard got.count == want.count else { return }
    let err = maxRelativeError(got, want)
    XCTAssertLessThanOrEqual(err, tolerance, "\(what): max relative error \(err)", file: file, line: line)
}
