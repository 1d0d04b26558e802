import CLIP
import Tensor

/// WinCLIP (zero-shot) and WinCLIP+ (few-shot) as anomalib implements them (`WinClipModel`, `utils.py`):
/// - class score of an embedding: softmax(cos(e, [normal; anomalous] text) / 0.07)[anomalous];
/// - zero-shot map: per scale (2x2 and 3x3 windows) the harmonic aggregation of the window class scores, then the
///   harmonic mean of [image score everywhere, scale 2, scale 3]; zero-shot image score = the image's class score;
/// - few-shot (k reference normal images): per scale the visual association score min (1 − cos)/2 to the references
///   (patches: the 896-d patch embeddings; windows: harmonic aggregation), ARITHMETIC mean of the three; the map is
///   (zero-shot + few-shot)/2 and the image score (image class score + max few-shot)/2;
/// - the 15x15 map is upsampled bilinearly (align_corners false) to the output size; no smoothing.
public struct WinCLIPDetector: Sendable {
    public static let temperature: Float = 0.07

    public let model: CLIPModel
    public let scales: [WindowMasks]
    /// Unnormalised mean text embeddings [2, E]: normal, anomalous.
    public let textEmbeddings: Tensor
    public private(set) var reference: ReferenceMemory?

    /// Embeddings of the k reference normal images, rows L2-normalised.
    public struct ReferenceMemory: Sendable {
        public var patches: CosineMemoryBank
        public var windows: [CosineMemoryBank]
        public var count: Int
    }

    public struct Result: Sendable {
        public var imageScores: [Float]
        /// Patch-grid maps [N, g, g] (zero-shot, and the fused map when references are set).
        public var gridMaps: Tensor
        /// Few-shot patch-grid maps [N, g, g] when references are set.
        public var fewShotMaps: Tensor?
        public var zeroShotMaps: Tensor
        /// Upsampled maps [N, S, S].
        public var maps: Tensor
    }

    /// extraAnomalousStates: the user's defect phrases as templates ("crack {}"), averaged into the anomalous
    /// embedding with the official states.
    public init(model: CLIPModel, className: String, scales: [Int] = [2, 3], extraAnomalousStates: [String] = [],
                tokenizer: CLIPTokenizer) throws {
        let grid = model.vision.trainedGrid
        self.model = model
        self.scales = try scales.map { try WindowMasks(grid: grid, kernel: $0) }
        let (normal, anomalous) = WinCLIPPrompts.ensemble(className: className, extraAnomalousStates: extraAnomalousStates)
        func meanEmbedding(_ texts: [String]) throws -> Tensor {
            // Zero-padded to the longest prompt, not to 77: the tower is causal, so the end-of-text feature is the same.
            let rows = texts.map { tokenizer.tokenize($0, contextLength: model.text.contextLength) }
            let length = rows.map(\.count).max() ?? 1
            let padded = rows.map { $0 + Array(repeating: 0, count: length - $0.count) }
            try model.text.validate(ids: padded)
            let e = model.text.forward(ids: padded)   // [count, E]
            let count = e.shape[0], d = e.shape[1]
            return Tensor(shape: [1, d]) { c in (0..<count).reduce(0) { $0 + e[flat: $1 * d + c] } / Float(count) }
        }
        textEmbeddings = Tensor.concatenate([try meanEmbedding(normal), try meanEmbedding(anomalous)])
    }

    public var grid: Int { model.vision.trainedGrid }

    /// Sets the few-shot references from k normal images [k, 3, S, S] (WinCLIP+); none keeps it zero-shot.
    public mutating func setReferences(_ images: Tensor) throws {
        guard images.shape[0] > 0 else { reference = nil; return }
        try checkSize(images)
        let e = WinCLIPImageEmbeddings.compute(images, vision: model.vision, scales: scales)
        func rows(_ t: Tensor) -> CosineMemoryBank { CosineMemoryBank(rows: t.reshaped([t.count / t.shape[2], t.shape[2]])) }
        reference = ReferenceMemory(patches: rows(e.patches), windows: e.windows.map(rows), count: images.shape[0])
    }

    func checkSize(_ images: Tensor) throws {
        let native = model.vision.nativeImageSize
        guard images.rank == 4, images.shape[2] == native, images.shape[3] == native else {
            throw WinCLIPError.badConfiguration("images must be \(native)x\(native) (the backbone's native size: the windows live on its \(grid)x\(grid) grid), got \(images.shape)")
        }
    }

    /// images: [N, 3, S, S] at the backbone's native size; maps come out at outputSize x outputSize.
    public func detect(_ images: Tensor, outputSize: Int) throws -> Result {
        try checkSize(images)
        return detect(embeddings: WinCLIPImageEmbeddings.compute(images, vision: model.vision, scales: scales), outputSize: outputSize)
    }

    public func detect(embeddings e: WinCLIPImageEmbeddings, outputSize s: Int) -> Result {
        let n = e.image.shape[0], g = grid, p = g * g
        let imageScores = classScores(e.image)
        let windowMaps = zip(e.windows, scales).map { windows, masks -> [[Float]] in
            let scores = classScores(windows.reshaped([windows.count / windows.shape[2], windows.shape[2]]))
            return (0..<n).map { masks.harmonicAggregation(Array(scores[($0 * masks.windows.count)..<(($0 + 1) * masks.windows.count)])) }
        }
        let zeroShot = Tensor(shape: [n, g, g]) { i in
            let b = i / p, q = i % p
            return HarmonicFusion.harmonicMean([imageScores[b]] + windowMaps.map { $0[b][q] })
        }
        var fused = zeroShot, scores = imageScores
        var fewShot: Tensor? = nil
        if let reference {
            let patchScores = reference.patches.distances(e.patches.reshaped([n * p, e.patches.shape[2]]).l2Normalized())
            let windowScores = zip(zip(e.windows, reference.windows), scales).map { pair, masks -> [[Float]] in
                let (windows, memory) = pair
                let d = memory.distances(windows.reshaped([windows.count / windows.shape[2], windows.shape[2]]).l2Normalized()).scalars
                return (0..<n).map { masks.harmonicAggregation(Array(d[($0 * masks.windows.count)..<(($0 + 1) * masks.windows.count)])) }
            }
            let few = Tensor(shape: [n, g, g]) { i in
                let b = i / p, q = i % p
                return (patchScores[flat: i] + windowScores.reduce(Float(0)) { $0 + $1[b][q] }) / Float(1 + windowScores.count)
            }
            fused = Tensor(shape: [n, g, g]) { (zeroShot[flat: $0] + few[flat: $0]) / 2 }
            scores = (0..<n).map { b in (imageScores[b] + (few[b].scalars.max() ?? 0)) / 2 }
            fewShot = few
        }
        let maps = Interpolation.resize(fused, height: s, width: s, mode: .bilinear)
        return Result(imageScores: scores, gridMaps: fused, fewShotMaps: fewShot, zeroShotMaps: zeroShot, maps: maps)
    }

    /// softmax(cos(rows, text) / T)[anomalous] per row of [R, E].
    func classScores(_ embeddings: Tensor) -> [Float] {
        TwoClassScorer(textFeatures: textEmbeddings.l2Normalized(), scale: 1 / Self.temperature)
            .abnormalProbability(embeddings.l2Normalized()).scalars
    }
}
