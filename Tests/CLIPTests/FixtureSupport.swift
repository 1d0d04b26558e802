import Checkpoint
import Foundation
import Tensor
@_exported import TestSupport
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

// Parity comparisons: `assertParity` / `Parity.maxRelativeError` from TestSupport (fail on NaN and on shapes).
