import Foundation

/// Resampling of planar [channels, height, width] grids with PyTorch's `F.interpolate` semantics
/// (align_corners=False, no antialias): used for positional-embedding resize and anomaly-map upsampling.
public enum Interpolation {
    public enum Mode: Sendable { case bilinear, bicubic }

    /// Source coordinate of output index `i` (half-pixel centres), as PyTorch computes it from sizes.
    @inline(__always)
    static func sourceCoordinate(_ i: Int, inSize: Int, outSize: Int) -> Float {
        let scale = Float(inSize) / Float(outSize)
        return (Float(i) + 0.5) * scale - 0.5
    }

    /// One axis' taps: for each output index, source indices and weights.
    struct Taps {
        var index: [Int]   // outSize * taps
        var weight: [Float]
        let taps: Int
    }

    static func taps(mode: Mode, inSize: Int, outSize: Int) -> Taps {
        switch mode {
        case .bilinear:
            var idx = [Int](), w = [Float]()
            for o in 0..<outSize {
                let src = max(sourceCoordinate(o, inSize: inSize, outSize: outSize), 0)
                let i0 = min(Int(src), inSize - 1)
                let i1 = min(i0 + 1, inSize - 1)
                let l = src - Float(i0)
                idx += [i0, i1]; w += [1 - l, l]
            }
            return Taps(index: idx, weight: w, taps: 2)
        case .bicubic:
            var idx = [Int](), w = [Float]()
            for o in 0..<outSize {
                let src = sourceCoordinate(o, inSize: inSize, outSize: outSize)
                let f = src.rounded(.down)
                let t = src - f
                let coeffs = cubicCoefficients(t)
                for k in 0..<4 {
                    idx.append(min(max(Int(f) - 1 + k, 0), inSize - 1))
                    w.append(coeffs[k])
                }
            }
            return Taps(index: idx, weight: w, taps: 4)
        }
    }

    /// PyTorch's cubic convolution weights (A = -0.75) for the 4 taps around a fractional offset t.
    static func cubicCoefficients(_ t: Float) -> [Float] {
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]
    }

    /// Largest output side `validate` accepts (map upsampling and positional-embedding grids stay far below it).
    public static let maxSide = 16384

    /// Throws unless `resize` can take `inputShape` [C, H, W] to [C, height, width]: every side at least 1 (an
    /// empty grid has no pixel to sample), outputs at most `maxSide`, and the result within the memory budget.
    public static func validate(inputShape: [Int], height: Int, width: Int) throws {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw InterpolationError.badInput(shape: inputShape)
        }
        guard (1...maxSide).contains(height), (1...maxSide).contains(width) else {
            throw InterpolationError.badOutput(height: height, width: width, maxSide: maxSide)
        }
        try MemoryBudget.check(elements: MemoryBudget.product([inputShape[0], height, width]),
                               for: "resizing \(inputShape) to \(height)x\(width)")
    }

    /// Resizes `input` [C, H, W] to [C, outH, outW]. Sizes must pass `validate` (checked only in builds with
    /// preconditions; input code calls `validate` first).
    public static func resize(_ input: Tensor, height outH: Int, width outW: Int, mode: Mode) -> Tensor {
        precondition(input.rank == 3, "Interpolation.resize expects [C, H, W], got \(input.shape)")
        precondition(input.shape.allSatisfy { $0 >= 1 } && outH >= 1 && outW >= 1,
                     "Interpolation.resize: \(input.shape) -> \(outH)x\(outW) has an empty side")
        let c = input.shape[0], h = input.shape[1], w = input.shape[2]
        let ty = taps(mode: mode, inSize: h, outSize: outH)
        let tx = taps(mode: mode, inSize: w, outSize: outW)
        let out = Tensor(uninitialized: [c, outH, outW])
        let src = input.data, dst = out.mutableData
        // Each output is Σ_ky wy · (Σ_kx wx · in[iy, ix]), both sums from zero in tap order (PyTorch sums the 2-D
        // taps directly; this differs from it only by rounding). The inner sum depends on the source row and the
        // output column alone, so it is taken once per source row (the first pass) rather than once per output row
        // using it: the same additions in the same order, hence the same bits, at a fraction of the work when
        // upsampling (a 37-row map to 518 rows uses each source row for 14 output rows).
        ty.index.withUnsafeBufferPointer { yIndex in ty.weight.withUnsafeBufferPointer { yWeight in
        tx.index.withUnsafeBufferPointer { xIndex in tx.weight.withUnsafeBufferPointer { xWeight in
            Parallel.forEachChunk(c) { channels in
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: h * outW)
                defer { rows.deallocate() }
                for ch in channels {
                    let plane = src + ch * h * w, o = dst + ch * outH * outW
                    for r in 0..<h {
                        let row = plane + r * w, across = rows + r * outW
                        for x in 0..<outW {
                            var inner: Float = 0
                            for kx in 0..<tx.taps { inner += row[xIndex[x * tx.taps + kx]] * xWeight[x * tx.taps + kx] }
                            across[x] = inner
                        }
                    }
                    for y in 0..<outH {
                        let line = o + y * outW
                        for x in 0..<outW { line[x] = 0 }
                        for ky in 0..<ty.taps {
                            let across = rows + yIndex[y * ty.taps + ky] * outW, wy = yWeight[y * ty.taps + ky]
                            for x in 0..<outW { line[x] += across[x] * wy }
                        }
                    }
                }
            }
        }}}}
        return out
    }
}

extension Interpolation {
    /// Backward of `resize`: scatters `gradOutput` [C, outH, outW] back through the same taps to [C, inH, inW]
    /// (the transpose of the linear resampling map; clamped border taps accumulate).
    public static func resizeBackward(_ gradOutput: Tensor, height inH: Int, width inW: Int, mode: Mode) -> Tensor {
        precondition(gradOutput.rank == 3, "Interpolation.resizeBackward expects [C, H, W], got \(gradOutput.shape)")
        precondition(gradOutput.shape.allSatisfy { $0 >= 1 } && inH >= 1 && inW >= 1,
                     "Interpolation.resizeBackward: \(gradOutput.shape) -> \(inH)x\(inW) has an empty side")
        let c = gradOutput.shape[0], outH = gradOutput.shape[1], outW = gradOutput.shape[2]
        let ty = taps(mode: mode, inSize: inH, outSize: outH)
        let tx = taps(mode: mode, inSize: inW, outSize: outW)
        let grad = Tensor(zeros: [c, inH, inW])
        let src = gradOutput.data, dst = grad.mutableData
        // Each source cell takes its contributions in (y, x, ky, kx) order, one addition at a time, so the result
        // does not depend on how the loops are compiled; the taps are read without bounds checks (validated sizes).
        ty.index.withUnsafeBufferPointer { yIndex in ty.weight.withUnsafeBufferPointer { yWeight in
        tx.index.withUnsafeBufferPointer { xIndex in tx.weight.withUnsafeBufferPointer { xWeight in
            Parallel.forEach(c) { ch in
                let g = src + ch * outH * outW, plane = dst + ch * inH * inW
                for y in 0..<outH {
                    for x in 0..<outW {
                        let v = g[y * outW + x]
                        for ky in 0..<ty.taps {
                            let row = plane + yIndex[y * ty.taps + ky] * inW
                            let wy = v * yWeight[y * ty.taps + ky]
                            for kx in 0..<tx.taps { row[xIndex[x * tx.taps + kx]] += wy * xWeight[x * tx.taps + kx] }
                        }
                    }
                }
            }
        }}}}
        return grad
    }
}

/// Why `Interpolation.validate` refused a resize.
public enum InterpolationError: Error, CustomStringConvertible, Equatable {
    /// The input is not [C, H, W] with every size at least 1.
    case badInput(shape: [Int])
    /// An output side outside 1...maxSide.
    case badOutput(height: Int, width: Int, maxSide: Int)

    public var description: String {
        switch self {
        case .badInput(let shape): return "interpolation: input has shape \(shape), expected [C, H, W] with every size at least 1"
        case let .badOutput(h, w, maxSide): return "interpolation: output \(h)x\(w), expected each side in 1...\(maxSide)"
        }
    }
}
