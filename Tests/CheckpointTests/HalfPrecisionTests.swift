import XCTest
@testable import Checkpoint

/// Float16 / BFloat16 conversions against independent references.
final class HalfPrecisionTests: XCTestCase {
    /// The IEEE binary16 value of a bit pattern computed from its definition with Double arithmetic.
    private func referenceHalf(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * pow(2, -24)
        case 0x1F: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
        }
    }

    func testEveryHalfConvertsExactly() {
        for bits in 0...UInt16.max {
            let got = HalfPrecision.float(fromHalf: bits)
            let want = referenceHalf(bits)
            if want.isNaN {
                XCTAssertTrue(got.isNaN, "\(bits)")
            } else {
                XCTAssertEqual(Double(got), want, "\(bits)")
                XCTAssertEqual(got.sign, want.sign, "\(bits)")
                XCTAssertEqual(HalfPrecision.half(from: got), bits, "round trip \(bits)")
            }
        }
    }

    func testFloatToHalfRoundsToNearestEven() {
        // candidates: every half, the midpoints between neighbours and values just either side of them
        var inputs: [Float] = [1e-9, -1e-9, 2.98e-8, 2.99e-8, 65519.99, 65520, 1e6, -1e6, .infinity]
        for bits in UInt16(0)..<0x7C00 {
            let a = Float(referenceHalf(bits)), b = Float(referenceHalf(bits + 1))
            let mid = (a + b) / 2
            inputs += [a, mid, mid.nextUp, mid.nextDown, -mid]
        }
        for x in inputs {
            let got = Double(HalfPrecision.float(fromHalf: HalfPrecision.half(from: x)))
            // reference: the nearest half by exhaustive distance, ties to the even pattern
            let magnitude = Double(abs(x))
            var best: UInt16 = 0
            var bestDistance = Double.infinity
            var lo: UInt16 = 0, hi: UInt16 = 0x7C00
            while hi - lo > 1 {  // binary search the bracketing halves
                let m = (lo + hi) / 2
                if referenceHalf(m) <= magnitude { lo = m } else { hi = m }
            }
            for candidate in [lo, hi] {
                let d = abs(referenceHalf(candidate) - magnitude)
                if d < bestDistance || (d == bestDistance && candidate & 1 == 0) { best = candidate; bestDistance = d }
            }
            if magnitude >= 65520 { best = 0x7C00 }  // IEEE: overflow threshold rounds to infinity
            let want = (x.sign == .minus ? -1 : 1) * referenceHalf(best)
            XCTAssertEqual(got, want, "\(x)")
        }
        XCTAssertTrue(HalfPrecision.float(fromHalf: HalfPrecision.half(from: .nan)).isNaN)
    }

    func testBFloat16() {
        XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0x3F80), 1)
        XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0xC000), -2)
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1.00390625), 0x3F80, "tie rounds to even (down)")
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1.01171875), 0x3F82, "tie rounds to even (up)")
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(1.00390625).nextUp), 0x3F81, "above the tie rounds up")
        XCTAssertTrue(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: .nan)).isNaN)
        XCTAssertEqual(HalfPrecision.bfloat16(from: .infinity), 0x7F80)
    }
}
