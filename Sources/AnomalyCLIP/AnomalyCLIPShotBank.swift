import CLIP
import Checkpoint
import Foundation
import Tensor

/// The few-shot half of AnomalyCLIP + shots: a memory bank of the shots' patch tokens from intermediate vision layers
/// of the ORIGINAL path (no DPAM, no ln_post, no projection), as APRIL-GAN's few-shot branch keeps them
/// (ByChelsea/VAND-APRIL-GAN `test.py`, `mode == 'few_shot'`), and the statistics that put its image score on a scale
/// one image at a time.
///
/// Few-shot map of an image = sum over bank layers of the per-patch min over the bank of (1 − cos), bilinearly
/// resized to the output side. Each layer's term is in [0, 2] (in practice ~0...1: residual-stream tokens of one
/// product are mostly positively correlated), so the map is in [0, 2 · layers].
public struct AnomalyCLIPShotBank: Sendable {
    /// 1-based vision blocks whose original-path outputs are banked, ascending.
    public let layers: [Int]
    /// Per bank layer, the L2-normalised patch tokens (class token dropped) of every shot, [K · g·g, W].
    public let memories: [Int: CosineMemoryBank]
    public let shotCount: Int
    /// Per shot, the maximum of its few-shot map against a bank of the OTHER shots (leave-one-out), in shot order.
    public let leaveOneOutMaxima: [Float]

    /// Below this the spread of the leave-one-out maxima is taken as this (identical shots would otherwise divide by 0).
    public static let minimumSpread: Float = 1e-3

    public init(layers: [Int], memories: [Int: CosineMemoryBank], shotCount: Int, leaveOneOutMaxima: [Float]) {
        self.layers = layers
        self.memories = memories
        self.shotCount = shotCount
        self.leaveOneOutMaxima = leaveOneOutMaxima
    }

    /// The bank of `shotTokens` (per layer [K, g·g, W], L2-normalised rows), with the leave-one-out maxima of maps
    /// at `mapSide`. Needs at least 2 shots (one shot has no other shot to be compared with).
    public init(layers: [Int], shotTokens: [Int: Tensor], mapSide: Int) throws {
        guard let first = layers.first.flatMap({ shotTokens[$0] }), first.rank == 3 else {
            throw AnomalyCLIPError.badConfiguration("no shot tokens for bank layers \(layers)")
        }
        let k = first.shape[0], n = first.shape[1], w = first.shape[2]
        guard k >= 2 else {
            throw AnomalyCLIPError.badConfiguration("AnomalyCLIP + shots needs at least 2 shots (the image score is normalised by each shot's distance to the others), got \(k)")
        }
        var memories: [Int: CosineMemoryBank] = [:]
        for layer in layers {
            guard let t = shotTokens[layer], t.shape == [k, n, w] else {
                throw AnomalyCLIPError.badConfiguration("shot tokens of layer \(layer) are missing or not [\(k), \(n), \(w)]")
            }
            memories[layer] = CosineMemoryBank(rows: t.reshaped([k * n, w]), normalised: true)
        }
        var maxima: [Float] = []
        for i in 0..<k {
            var others: [Int: CosineMemoryBank] = [:], query: [Int: Tensor] = [:]
            for layer in layers {
                let t = shotTokens[layer]!
                others[layer] = CosineMemoryBank(rows: Tensor.concatenate((0..<k).filter { $0 != i }.map { t[$0] })
                    .reshaped([(k - 1) * n, w]), normalised: true)
                query[layer] = t[i].reshaped([n, w])
            }
            let (map, _) = Self.fewShotMap(query: query, banks: others, layers: layers, height: mapSide, width: mapSide)
            maxima.append(map.scalars.max() ?? 0)
        }
        self.init(layers: layers, memories: memories, shotCount: k, leaveOneOutMaxima: maxima)
    }

    /// Width of the banked tokens (the vision tower's width).
    public var tokenWidth: Int { memories[layers[0]]?.dimension ?? 0 }

    // MARK: - Maps

    /// One image's few-shot map from its L2-normalised patch tokens per layer [g·g, W]: ([H, W] summed resized
    /// maps, [g·g] summed grid maps).
    static func fewShotMap(query: [Int: Tensor], banks: [Int: CosineMemoryBank], layers: [Int],
                           height h: Int, width w: Int) -> (map: Tensor, grid: Tensor) {
        let n = query[layers[0]]!.shape[0], g = Int(Double(n).squareRoot())
        var grid = Tensor(zeros: [n])
        for layer in layers {
            // CosineMemoryBank gives (1 − cos) / 2; times 2 (exact) is APRIL-GAN's 1 − cos.
            grid.add(banks[layer]!.distances(query[layer]!) * 2)
        }
        // Resizing is linear: one resize of the layer sum equals the sum of the resized layers (to rounding), at a
        // quarter of the cost with four layers (the per-pixel work dominates on small backbones).
        let map = Interpolation.resize(grid.reshaped([1, g, g]), height: h, width: w, mode: .bilinear).reshaped([h, w])
        return (map, grid)
    }

    /// Few-shot maps of a batch: tokens per layer [B, g·g, W] (L2-normalised rows) -> ([B, H, W], [B, g, g]).
    public func maps(tokens: [Int: Tensor], height h: Int, width w: Int) -> (maps: Tensor, grids: Tensor) {
        let first = tokens[layers[0]]!
        let b = first.shape[0], n = first.shape[1], g = Int(Double(n).squareRoot())
        let maps = Tensor(uninitialized: [b, h, w]), grids = Tensor(uninitialized: [b, g, g])
        for i in 0..<b {
            var query: [Int: Tensor] = [:]
            for layer in layers { query[layer] = tokens[layer]![i].reshaped([n, tokens[layer]!.shape[2]]) }
            let (map, grid) = Self.fewShotMap(query: query, banks: memories, layers: layers, height: h, width: w)
            maps.mutableData.advanced(by: i * h * w).update(from: map.data, count: h * w)
            grids.mutableData.advanced(by: i * n).update(from: grid.data, count: n)
        }
        return (maps, grids)
    }

    // MARK: - Image score

    /// Mean of the leave-one-out maxima: where a normal image's few-shot maximum is expected.
    public var normalMaximumMean: Float { leaveOneOutMaxima.reduce(0, +) / Float(max(leaveOneOutMaxima.count, 1)) }

    /// Population standard deviation of the leave-one-out maxima, at least `minimumSpread`.
    public var normalMaximumSpread: Float {
        let mean = normalMaximumMean
        let variance = leaveOneOutMaxima.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(max(leaveOneOutMaxima.count, 1))
        return max(variance.squareRoot(), Self.minimumSpread)
    }

    /// The few-shot image score in (0, 1): logistic of the map maximum's z-score against the leave-one-out maxima
    /// (0.5 = as far from the bank as a typical shot is from the other shots).
    public func fewShotScore(mapMaximum m: Float) -> Float {
        1 / (1 + exp(-(m - normalMaximumMean) / normalMaximumSpread))
    }

    /// Fused image score in [0, 1]: the mean of the zero-shot global score and `fewShotScore`.
    public func imageScore(zeroShot: Float, mapMaximum: Float) -> Float {
        (zeroShot + fewShotScore(mapMaximum: mapMaximum)) / 2
    }

    // MARK: - Model file

    static let tensorPrefix = "shot_bank.layer"
    static let layersKey = "shot_bank.layers", shotCountKey = "shot_bank.shot_count", maximaKey = "shot_bank.leave_one_out_maxima"

    /// Tensors for the model file: `shot_bank.layer{L}` [K · g·g, W].
    public var namedTensors: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: layers.map { ("\(Self.tensorPrefix)\($0)", memories[$0]!.rows) })
    }

    /// Metadata for the model file: the layers, the shot count and the leave-one-out maxima (JSON).
    public var metadata: [String: String] {
        [Self.layersKey: layers.map(String.init).joined(separator: ","), Self.shotCountKey: "\(shotCount)",
         Self.maximaKey: "[" + leaveOneOutMaxima.map { "\($0)" }.joined(separator: ",") + "]"]
    }

    /// The bank stored in a model file, nil when it has none; every field checked (a hostile file gets an error).
    public static func load(checkpoint: Checkpoint) throws -> AnomalyCLIPShotBank? {
        guard let layerList = checkpoint.metadata[layersKey] else { return nil }
        func bad(_ reason: String) -> AnomalyCLIPError { .badPromptFile(file: checkpoint.path, reason: reason) }
        let layers = layerList.split(separator: ",").map { Int($0) }
        guard !layers.isEmpty, layers.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw bad("metadata '\(layersKey)' is '\(layerList)', expected comma-separated block numbers") }
        guard let k = checkpoint.metadata[shotCountKey].flatMap({ Int($0) }), k >= 2 else {
            throw bad("metadata '\(shotCountKey)' is missing or below 2")
        }
        guard let json = checkpoint.metadata[maximaKey], let maxima = try? JSONDecoder().decode([Float].self, from: Data(json.utf8)),
              maxima.count == k, maxima.allSatisfy(\.isFinite) else {
            throw bad("metadata '\(maximaKey)' must be a JSON list of \(k) finite numbers")
        }
        var memories: [Int: CosineMemoryBank] = [:], width: Int? = nil
        for layer in layers.compactMap({ $0 }) {
            let name = "\(tensorPrefix)\(layer)"
            guard checkpoint.tensors[name] != nil else { throw bad("missing tensor '\(name)' (listed in '\(layersKey)')") }
            let rows = try checkpoint.tensor(name)
            guard rows.rank == 2, rows.shape[0] >= k, rows.shape[0] % k == 0, rows.shape[1] >= 1, width == nil || width == rows.shape[1] else {
                throw bad("tensor '\(name)' has shape \(rows.shape), expected [\(k) shots x patches, width]")
            }
            guard rows.scalars.allSatisfy(\.isFinite) else { throw bad("tensor '\(name)' holds non-finite values") }
            // Used as stored, not normalised again: a round trip through the file must give the scores of the bank
            // that was written, to the bit (re-normalising moves the last bits, by an amount that depends on the BLAS).
            if let row = Self.firstRowOffTheUnitSphere(rows) {
                throw bad("tensor '\(name)' row \(row) is not L2-normalised (the bank stores unit-length tokens)")
            }
            width = rows.shape[1]
            memories[layer] = CosineMemoryBank(rows: rows, normalised: true)
        }
        return AnomalyCLIPShotBank(layers: layers.compactMap { $0 }, memories: memories, shotCount: k, leaveOneOutMaxima: maxima)
    }

    /// The first row of `rows` [M, D] whose length is off 1 by more than float rounding of a normalisation allows.
    static func firstRowOffTheUnitSphere(_ rows: Tensor) -> Int? {
        let m = rows.shape[0], d = rows.shape[1]
        for i in 0..<m {
            var sum: Double = 0
            for j in 0..<d { let v = Double(rows.data[i * d + j]); sum += v * v }
            if abs(sum.squareRoot() - 1) > 1e-4 { return i }
        }
        return nil
    }

    /// Throws unless the bank fits `model`: layers within the tower, tokens as wide as its vision width.
    public func check(against model: CLIPModel, source: String) throws {
        guard layers.allSatisfy({ (1...model.vision.layers).contains($0) }) else {
            throw AnomalyCLIPError.badConfiguration("\(source): bank layers \(layers) must be in 1...\(model.vision.layers) for this CLIP")
        }
        guard tokenWidth == model.vision.width else {
            throw AnomalyCLIPError.badConfiguration("\(source): the shot bank holds \(tokenWidth)-wide tokens but this CLIP's vision tower is \(model.vision.width) wide (built with another backbone?)")
        }
    }
}
