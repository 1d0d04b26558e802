/// Exact conversions between Float32 and the 16-bit storage formats (IEEE binary16 and bfloat16).
///
/// Written with bit operations so they behave the same on every platform (Swift's `Float16` is not
/// available everywhere).
enum HalfPrecision {
    // MARK: - Float16

    /// binary16 -> Float32, exact for every input (subnormals, infinities, NaN payloads, signed zero).
    @inline(__always)
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {  // inf / nan
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent != 0 {  // normal: rebias 15 -> 127
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
        // zero or subnormal: value = mantissa * 2^-24, exact in Float32
        let magnitude = Float(mantissa) * 5.960_464_5e-8  // 2^-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    }

    /// Float32 -> binary16 with round-to-nearest-even (what `torch.half()` does).
    static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        var mantissa = bits & 0x007F_FFFF
        if exponent == 0xFF {  // inf / nan (keep nan quiet)
            return sign | 0x7C00 | (mantissa != 0 ? 0x0200 | UInt16(mantissa >> 13) : 0)
        }
        let e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }  // overflow -> inf
        if e <= 0 {  // subnormal or zero in half
            if e < -10 { return sign }  // below half the smallest subnormal -> ±0
            mantissa |= 0x0080_0000
            let shift = UInt32(14 - e)
            var half = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }  // may carry into inf: correct
        return sign | UInt16(half)
    }

    // MARK: - BFloat16

    /// bfloat16 is the top 16 bits of a Float32.
    @inline(__always)
    static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Float32 -> bfloat16 with round-to-nearest-even (NaN stays NaN).
    static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
