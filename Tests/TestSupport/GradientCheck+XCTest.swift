import XCTest
import Tensor

extension GradientCheck {
    /// Asserts every input's relative gradient error (see `GradientCheck.run`) is at most `tolerance`.
    public static func check(
        _ inputs: [Tensor], h: Float = 1e-2, tolerance: Double = 1e-2, samples: Int = 40, seed: UInt64 = 99,
        _ what: String, file: StaticString = #filePath, line: UInt = #line,
        _ build: (Tape, [Variable]) -> Variable
    ) {
        do {
            for result in try run(inputs, h: h, samples: samples, seed: seed, build) {
                XCTAssertLessThanOrEqual(result.relativeError, tolerance, "\(what): \(result)", file: file, line: line)
            }
        } catch {
            XCTFail("\(what): backward threw \(error)", file: file, line: line)
        }
    }
}
