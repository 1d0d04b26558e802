import Foundation
import Tensor

/// Deterministic synthetic "product surface" images with and without defects, for the demo and for tests that
/// need labelled data without downloads: a woven/brushed texture, optionally with a scratch or a stain, and its mask.
public struct SyntheticDefectImages {
    public enum Defect: String, CaseIterable, Sendable { case none, scratch, stain, hole }

    public struct Sample: Sendable {
        /// Interleaved RGB, 8-bit, `size` x `size`.
        public var rgb: [UInt8]
        /// 0 or 255 per pixel; all zero for a normal sample.
        public var mask: [UInt8]
        public var defect: Defect
        public var size: Int
    }

    public let size: Int
    public init(size: Int = 256) { self.size = size }

    /// Sample number `index` with the given defect; the texture varies slightly with the seed, like parts on a line.
    public func sample(index: Int, defect: Defect, seed: UInt64 = 2024) -> Sample {
        var rng = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let n = size
        let phase = Double(rng.nextUniform()) * 2 * .pi
        let tint = (0..<3).map { _ in 0.9 + 0.2 * Double(rng.nextUniform()) }
        var rgb = [UInt8](repeating: 0, count: n * n * 3)
        var mask = [UInt8](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                let u = Double(x) / Double(n), v = Double(y) / Double(n)
                // Woven base: two crossing sinusoid families plus fine grain.
                var base = 0.55 + 0.12 * sin(2 * .pi * 18 * u + phase) * sin(2 * .pi * 18 * v)
                base += 0.05 * sin(2 * .pi * 47 * (u + v)) + 0.04 * Double(rng.nextNormal())
                for c in 0..<3 {
                    rgb[(y * n + x) * 3 + c] = UInt8(max(0, min(255, (base * tint[c] * 255).rounded())))
                }
            }
        }
        switch defect {
        case .none: break
        case .scratch:
            // A thin bright line at a random angle.
            let x0 = Double(n) * (0.2 + 0.6 * Double(rng.nextUniform())), y0 = Double(n) * (0.2 + 0.6 * Double(rng.nextUniform()))
            let angle = Double(rng.nextUniform()) * .pi, length = Double(n) * 0.35
            for t in stride(from: -length / 2, through: length / 2, by: 0.5) {
                let cx = x0 + t * cos(angle), cy = y0 + t * sin(angle)
                paint(cx, cy, radius: 1.6, rgb: &rgb, mask: &mask) { _ in [245, 245, 235] }
            }
        case .stain:
            let cx = Double(n) * (0.25 + 0.5 * Double(rng.nextUniform())), cy = Double(n) * (0.25 + 0.5 * Double(rng.nextUniform()))
            paint(cx, cy, radius: Double(n) * 0.08, rgb: &rgb, mask: &mask) { old in old.map { UInt8(Double($0) * 0.45) } }
        case .hole:
            let cx = Double(n) * (0.25 + 0.5 * Double(rng.nextUniform())), cy = Double(n) * (0.25 + 0.5 * Double(rng.nextUniform()))
            paint(cx, cy, radius: Double(n) * 0.04, rgb: &rgb, mask: &mask) { _ in [12, 10, 10] }
        }
        return Sample(rgb: rgb, mask: mask, defect: defect, size: n)
    }

    /// Recolours a disc and marks it in the mask.
    private func paint(_ cx: Double, _ cy: Double, radius: Double, rgb: inout [UInt8], mask: inout [UInt8],
                       colour: ([UInt8]) -> [UInt8]) {
        let n = size
        let x0 = max(0, Int(cx - radius)), x1 = min(n - 1, Int(cx + radius) + 1)
        let y0 = max(0, Int(cy - radius)), y1 = min(n - 1, Int(cy + radius) + 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= radius * radius {
                let i = (y * n + x) * 3
                let c = colour([rgb[i], rgb[i + 1], rgb[i + 2]])
                rgb[i] = c[0]; rgb[i + 1] = c[1]; rgb[i + 2] = c[2]
                mask[y * n + x] = 255
            }
        }
    }
}
