/// Training losses: cross-entropy, AnomalyCLIP's focal and dice losses, MSE and PromptAD's triplet-style margin.
/// Each returns a scalar (shape []).
extension Variable {
    // MARK: - Classification

    /// Mean cross-entropy of logits [N, C] against class indices (torch `F.cross_entropy`, mean reduction).
    public func crossEntropy(targets: [Int]) -> Variable {
        precondition(rank == 2 && targets.count == shape[0], "crossEntropy: logits \(shape), \(targets.count) targets")
        let n = shape[0], c = shape[1]
        precondition(targets.allSatisfy { $0 >= 0 && $0 < c }, "crossEntropy: a target is outside 0..<\(c)")
        let logp = value.copy()
        Softmax.logRows(logp.mutableData, rows: n, width: c)
        var loss: Double = 0
        for (r, t) in targets.enumerated() { loss -= Double(logp[flat: r * c + t]) }
        return unary("cross entropy", Tensor(shape: [], scalars: [Float(loss / Double(max(n, 1)))])) { g in
            // d/dlogits = (softmax - onehot) / N
            let scale = g[flat: 0] / Float(max(n, 1))
            let dx = Tensor(uninitialized: [n, c])
            let lp = logp.data, d = dx.mutableData
            for i in 0..<(n * c) { d[i] = FastMath.exp(lp[i]) * scale }
            for (r, t) in targets.enumerated() { d[r * c + t] -= scale }
            return dx
        }
    }

    /// AnomalyCLIP's `FocalLoss` (alpha None, smooth 1e-5) on class PROBABILITIES [B, C, ...] (or [N, C]) with one
    /// class index per pixel (B·H·W, row-major): one-hot clamped to [smooth/(C-1), 1-smooth],
    /// pt = Σ onehot·p + smooth, loss = mean(-(1 - pt)^gamma · log pt).
    public func focalLoss(targets: [Int], gamma: Float = 2, smooth: Float = 1e-5) -> Variable {
        precondition(rank >= 2, "focalLoss on \(shape)")
        let b = shape[0], c = shape[1], m = count / max(b * c, 1), total = b * m
        precondition(c >= 2 && targets.count == total, "focalLoss: probabilities \(shape), \(targets.count) targets")
        precondition(targets.allSatisfy { $0 >= 0 && $0 < c }, "focalLoss: a target is outside 0..<\(c)")
        let low = smooth / Float(c - 1), high = 1 - smooth
        let p = value.data
        // Weight of class k for target t: the clamped one-hot.
        @inline(__always) func weight(_ k: Int, _ t: Int) -> Float { k == t ? max(min(1, high), low) : max(min(0, high), low) }
        // (1 - pt)^γ and its derivative's factor γ(1 - pt)^(γ-1): γ = 2 (AnomalyCLIP's) without pow, which was most
        // of a 518-px training step's loss time.
        let g = Double(gamma)
        @inline(__always) func modulating(_ q: Double) -> Double { gamma == 2 ? q * q : _powDouble(q, g) }
        @inline(__always) func modulatingSlope(_ q: Double) -> Double { gamma == 2 ? 2 * q : g * _powDouble(q, g - 1) }
        let pts = Tensor(uninitialized: [total])
        let ptp = pts.mutableData
        // Pixels in fixed blocks on all cores; the blocks' sums are added in order, so the loss does not depend on
        // the number of cores.
        let blocks = FixedBlocks(items: total)
        var partial = [Double](repeating: 0, count: blocks.count)
        partial.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(blocks.count) { block in
                var loss: Double = 0
                for i in blocks.range(block) {
                    let bi = i / m, j = i - bi * m, t = targets[i]
                    var pt: Float = smooth
                    for k in 0..<c { pt += weight(k, t) * p[(bi * c + k) * m + j] }
                    ptp[i] = pt
                    loss -= modulating(Double(1 - pt)) * _logDouble(Double(pt))
                }
                sums[block] = loss
            }
        }
        let loss = partial.reduce(0, +)
        let shape = self.shape
        return unary("focal loss", Tensor(shape: [], scalars: [Float(loss / Double(max(total, 1)))])) { g in
            let scale = g[flat: 0] / Float(max(total, 1))
            let dx = Tensor(uninitialized: shape)
            let d = dx.mutableData, ptp = pts.data   // read through `pts` so the closure keeps it alive
            Parallel.forEach(blocks.count) { block in
                for i in blocks.range(block) {
                    let bi = i / m, j = i - bi * m, t = targets[i], pt = Double(ptp[i])
                    // d/dpt of -(1-pt)^γ log pt
                    var dpt = -modulating(1 - pt) / pt
                    if gamma != 0 { dpt += modulatingSlope(1 - pt) * _logDouble(pt) }
                    let s = Float(dpt) * scale
                    for k in 0..<c { d[(bi * c + k) * m + j] = s * weight(k, t) }
                }
            }
            return dx
        }
    }

    /// AnomalyCLIP's `BinaryDiceLoss` on [N, ...] probabilities and targets of the same shape:
    /// 1 - (1/N) Σₙ (2·Σ p·t + 1) / (Σ p + Σ t + 1).
    public func diceLoss(targets: Tensor) -> Variable {
        precondition(targets.count == count && rank >= 1, "diceLoss: input \(shape), targets \(targets.shape)")
        let n = shape[0], m = count / max(n, 1)
        let p = value.data, t = targets.data
        var inter = [Double](repeating: 0, count: n), denom = [Double](repeating: 0, count: n)
        inter.withUnsafeMutableBufferPointer { inter in
            denom.withUnsafeMutableBufferPointer { denom in
                Parallel.forEach(n) { r in   // rows on all cores, each row's sums in order
                    var i: Double = 0, sp: Double = 0, st: Double = 0
                    for j in 0..<m { i += Double(p[r * m + j] * t[r * m + j]); sp += Double(p[r * m + j]); st += Double(t[r * m + j]) }
                    inter[r] = i
                    denom[r] = sp + st + 1
                }
            }
        }
        var sum: Double = 0
        for r in 0..<n { sum += (2 * inter[r] + 1) / denom[r] }
        let shape = self.shape
        return unary("dice loss", Tensor(shape: [], scalars: [Float(1 - sum / Double(max(n, 1)))])) { g in
            let scale = Double(g[flat: 0]) / Double(max(n, 1))
            let dx = Tensor(uninitialized: shape)
            let d = dx.mutableData, t = targets.data
            Parallel.forEach(n) { r in
                let dd = denom[r], num = 2 * inter[r] + 1
                for j in 0..<m { d[r * m + j] = Float(-scale * (2 * Double(t[r * m + j]) * dd - num) / (dd * dd)) }
            }
            return dx
        }
    }

    // MARK: - Distances (built from primitives)

    /// Squared L2 distance per row: [..., W] x [..., W] -> [...].
    public func squaredDistance(to other: Variable) -> Variable { (self - other).squared().sumLastDimension() }

    /// Mean squared error over all elements (torch `F.mse_loss`).
    public func mseLoss(_ target: Variable) -> Variable { (self - target).squared().mean() }

    /// PromptAD-style margin loss on squared L2 distances, mean over rows:
    /// max(0, ‖a - p‖² - ‖a - n‖² + margin).
    public static func tripletMarginLoss(anchor: Variable, positive: Variable, negative: Variable, margin: Float) -> Variable {
        (anchor.squaredDistance(to: positive) - anchor.squaredDistance(to: negative)).adding(margin).relu().mean()
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _powDouble(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Foundation
@inline(__always) func _powDouble(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
#endif
