/// A small deterministic random generator (SplitMix64) for random-weight models, seeded sampling and tests.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

extension Tensor {
    /// Normal(mean, std) entries from `generator`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float, using generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let p = t.mutableData
        for i in 0..<t.count { p[i] = mean + std * generator.nextNormal() }
        return t
    }
}
