/// Loops converting raw checkpoint elements (any `DType`, possibly unaligned) to Float32 or Int64.
enum ElementConversion {
    // MARK: - Contiguous runs

    /// Converts `count` contiguous elements starting at `src` into `dst`.
    static func toFloat(_ dtype: DType, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
        switch dtype {
        case .float32:
            for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
        case .float16:
            for i in 0..<count { dst[i] = HalfPrecision.float(fromHalf: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        case .bfloat16:
            for i in 0..<count { dst[i] = HalfPrecision.float(fromBFloat16: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        default:
            let load = floatLoader(dtype)
            for i in 0..<count { dst[i] = load(src, i) }
        }
    }

    // MARK: - Element loaders

    /// A function reading element `index` of a storage starting at the given pointer, as Float.
    static func floatLoader(_ dtype: DType) -> (UnsafeRawPointer, Int) -> Float {
        switch dtype {
        case .float32: return { p, i in p.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
        case .float16: return { p, i in HalfPrecision.float(fromHalf: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        case .bfloat16: return { p, i in HalfPrecision.float(fromBFloat16: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        case .float64: return { p, i in Float(p.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        case .int64: return { p, i in Float(p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
        case .int32: return { p, i in Float(p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        case .int16: return { p, i in Float(p.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
        case .int8: return { p, i in Float(p.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8: return { p, i in Float(p.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool: return { p, i in p.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        }
    }

    /// A function reading element `index` of an integer (or bool) storage as Int64.
    static func int64Loader(_ dtype: DType) -> (UnsafeRawPointer, Int) -> Int64 {
        switch dtype {
        case .int64: return { p, i in p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self) }
        case .int32: return { p, i in Int64(p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        case .int16: return { p, i in Int64(p.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
        case .int8: return { p, i in Int64(p.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8: return { p, i in Int64(p.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool: return { p, i in p.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        case .float32, .float16, .bfloat16, .float64:
            let load = floatLoader(dtype)
            return { p, i in Int64(exactly: load(p, i).rounded(.towardZero)) ?? 0 }
        }
    }
}
