import Tensor
import XCTest

/// Parity measures shared by every test target. Unlike `max(worst, diff)` loops (Swift's `max` drops a NaN, so an
/// all-NaN output would compare as equal), these treat any non-finite value on either side as a failure, and
/// compare shapes, not only element counts.
public enum Parity {
    public struct Mismatch: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Largest |got − want| over the reference's largest magnitude (the "max relative error" the issues quote).
    /// Throws for different shapes or a non-finite element in either tensor.
    public static func maxRelativeError(_ got: Tensor, _ want: Tensor) throws -> Float {
        guard got.shape == want.shape else { throw Mismatch(description: "shape \(got.shape), expected \(want.shape)") }
        return try maxRelativeError(got.scalars, want.scalars)
    }

    public static func maxRelativeError(_ got: [Float], _ want: [Float]) throws -> Float {
        guard got.count == want.count else { throw Mismatch(description: "\(got.count) values, expected \(want.count)") }
        var diff: Float = 0, scale: Float = 0
        for i in got.indices {
            guard got[i].isFinite else { throw Mismatch(description: "element \(i) is \(got[i]) (expected \(want[i]))") }
            guard want[i].isFinite else { throw Mismatch(description: "reference element \(i) is \(want[i])") }
            diff = Swift.max(diff, Swift.abs(got[i] - want[i]))
            scale = Swift.max(scale, Swift.abs(want[i]))
        }
        return diff / Swift.max(scale, 1e-12)
    }

    /// Largest elementwise relative difference |g − w| / max(|w|, floor), counting only elements whose absolute
    /// difference exceeds `absolute`; throws on a non-finite element or a count mismatch.
    public static func maxElementwiseRelativeDifference(_ got: [Float], _ want: [Float], absolute: Float = 0,
                                                        floor: Float = 1e-3) throws -> Float {
        guard got.count == want.count else { throw Mismatch(description: "\(got.count) values, expected \(want.count)") }
        var worst: Float = 0
        for i in got.indices {
            guard got[i].isFinite, want[i].isFinite else {
                throw Mismatch(description: "element \(i): got \(got[i]), expected \(want[i])")
            }
            let d = Swift.abs(got[i] - want[i])
            if d > absolute { worst = Swift.max(worst, d / Swift.max(Swift.abs(want[i]), floor)) }
        }
        return worst
    }
}

/// Fails unless `got` has `want`'s shape, every element of both is finite, and the max relative error is within
/// `tolerance`.
public func assertParity(_ got: Tensor, _ want: Tensor, tolerance: Float = 1e-4, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    do {
        let err = try Parity.maxRelativeError(got, want)
        XCTAssertLessThanOrEqual(err, tolerance, "\(what): max relative error \(err)", file: file, line: line)
    } catch {
        XCTFail("\(what): \(error)", file: file, line: line)
    }
}

/// The elementwise form (kernel tests): fails on a count mismatch, a non-finite element, or a difference above
/// `rel` relative to |want| (elements within `abs` are exempt).
public func assertClose(_ got: [Float], _ want: [Float], rel: Float = 1e-5, abs: Float = 1e-6, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        let worst = try Parity.maxElementwiseRelativeDifference(got, want, absolute: abs)
        XCTAssertLessThanOrEqual(worst, rel, "\(what): largest relative difference \(worst)", file: file, line: line)
    } catch {
        XCTFail("\(what): \(error)", file: file, line: line)
    }
}
