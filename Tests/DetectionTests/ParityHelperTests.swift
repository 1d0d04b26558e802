import Tensor
import TestSupport
import XCTest

/// The shared parity helpers can fail: on NaN (which `max(diff, |g - w|)` loops let through), on infinity, on shapes.
final class ParityHelperTests: XCTestCase {
    func testNaNInfinityAndShapesFail() {
        let zeros = Tensor(zeros: [2, 3])
        XCTAssertThrowsError(try Parity.maxRelativeError(Tensor(shape: [2, 3]) { _ in .nan }, zeros))
        XCTAssertThrowsError(try Parity.maxRelativeError(Tensor(shape: [2, 3]) { $0 == 4 ? .infinity : 0 }, zeros))
        XCTAssertThrowsError(try Parity.maxRelativeError(zeros, Tensor(shape: [2, 3]) { _ in .nan }), "a NaN reference")
        XCTAssertThrowsError(try Parity.maxRelativeError(Tensor(zeros: [3, 2]), zeros), "same count, other shape")
        XCTAssertThrowsError(try Parity.maxElementwiseRelativeDifference([.nan], [1]))
        XCTAssertEqual(try Parity.maxRelativeError(Tensor(shape: [2]) { Float($0) }, Tensor(shape: [2]) { Float($0) * 1.5 }), 0.5 / 1.5, accuracy: 1e-7)
    }

    /// An all-NaN output must not pass `assertParity`: its failure is captured here instead of failing the suite.
    func testAssertParityRecordsAFailureOnNaN() {
        capturing = true
        assertParity(Tensor(shape: [4]) { _ in .nan }, Tensor(zeros: [4]), "all NaN")
        assertParity(Tensor(zeros: [4]), Tensor(zeros: [2, 2]), "other shape")
        capturing = false
        XCTAssertEqual(captured.count, 2, "\(captured)")
        XCTAssertTrue(captured.first?.contains("all NaN: element 0 is nan") ?? false, "\(captured)")
    }

    private var capturing = false
    private var captured: [String] = []

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        if capturing { captured.append(description); return }
        super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
    }
}
