import XCTest
@testable import Tensor

/// Issue 13: sizes that would overflow or exhaust memory are thrown errors before any allocation.
final class HostileSizeTests: XCTestCase {
    func testInterpolationValidation() throws {
        // an empty grid (an image smaller than one patch) used to read before the buffer
        XCTAssertThrowsError(try Interpolation.validate(inputShape: [2, 0, 0], height: 5, width: 5)) {
            XCTAssertEqual($0 as? InterpolationError, .badInput(shape: [2, 0, 0]))
        }
        XCTAssertThrowsError(try Interpolation.validate(inputShape: [2, 3, 3], height: 0, width: 5)) {
            XCTAssertEqual($0 as? InterpolationError, .badOutput(height: 0, width: 5, maxSide: 16384))
        }
        XCTAssertThrowsError(try Interpolation.validate(inputShape: [2, 3, 3], height: 4_611_686_018_427_387_904, width: 1))
        XCTAssertThrowsError(try Interpolation.validate(inputShape: [1_000_000, 3, 3], height: 16384, width: 16384)) {
            XCTAssertTrue($0 is MemoryBudgetError, "\($0)")
        }
        XCTAssertNoThrow(try Interpolation.validate(inputShape: [2, 3, 3], height: 518, width: 518))
    }

    func testMemoryBudget() throws {
        XCTAssertNil(MemoryBudget.product([1 << 40, 1 << 40]))
        XCTAssertNil(MemoryBudget.product([-1, 4]))
        XCTAssertEqual(MemoryBudget.product([3, 4, 5]), 60)
        XCTAssertNil(MemoryBudget.sum([Int.max, 1]))
        XCTAssertNoThrow(try MemoryBudget.check(bytes: 1 << 20, for: "a small buffer"))
        XCTAssertThrowsError(try MemoryBudget.check(elements: MemoryBudget.product([1 << 40, 1 << 30]), for: "a huge buffer")) {
            XCTAssertTrue("\($0)".hasPrefix("a huge buffer would need more than "), "\($0)")
        }
        XCTAssertThrowsError(try MemoryBudget.check(bytes: MemoryBudget.limitBytes + 1, for: "one byte too many")) {
            XCTAssertEqual(($0 as? MemoryBudgetError)?.requestedBytes, MemoryBudget.limitBytes + 1)
        }
    }
}
