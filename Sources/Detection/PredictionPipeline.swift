import Dispatch
import Foundation
import ImageIO
import Tensor

/// Scores a list of images in batches, in input order, while a background thread decodes and preprocesses the next
/// batch: the forward pass (all cores, through the execution context) no longer waits for file reading, JPEG/PNG
/// decoding and the bicubic resize. What `clipad eval` and `clipad predict` run.
///
/// At batch size 1 the results are the image-by-image `Detector.predict(_:name:)` results, scores and maps bit for bit;
/// larger batches agree to rounding (see `defaultBatchSize`). Each image is decoded, validated and preprocessed on its
/// own, and a batch whose forward pass throws (one non-finite score) is rerun image by image so every image gets its
/// own result or error, at its place.
/// Memory is bounded: at most two batches (2 x `batchSize` preprocessed images) exist at once, the one being scored
/// and the one being prepared; a decoded image is dropped as soon as it is preprocessed.
/// The preparing thread runs outside the execution context on purpose: decoding and resizing one image at a time is
/// mostly memory traffic and costs the forward pass little beside it (measured, benchmarks/RESULTS.md 2026-12-02).
public struct PredictionPipeline: Sendable {
    public let detector: any Detector
    public let batchSize: Int
    public let context: ExecutionContext
    /// Reads an image file (a test substitutes a counting reader).
    public var load: @Sendable (String) throws -> Image = { try ImageDecoder.decodeRGB(path: $0) }

    /// `batchSize` nil: `defaultBatchSize`.
    public init(detector: any Detector, batchSize: Int? = nil, context: ExecutionContext = .shared) throws {
        let size = batchSize ?? Self.defaultBatchSize
        guard size >= 1 else { throw DetectionError.badSetting(setting: "batch-size", reason: "must be at least 1, got \(size)") }
        self.detector = detector
        self.batchSize = size
        self.context = context
    }

    /// One image per forward pass unless asked: only then are the results the image-by-image ones bit for bit. With
    /// more, the encoder's matrix products round differently (about 1e-6 relative, tested), and a ViT-B/16 @224 eval
    /// runs 14% faster at batch 8 (benchmarks/RESULTS.md, 2026-12-02 — clipad eval pipeline); `--batch-size` opts in.
    public static let defaultBatchSize = 1

    /// Calls `deliver(i, result)` for every name in order, i = 0, 1, ...: the prediction, or the error that image
    /// gave (unreadable file, bad size, non-finite score). An error `deliver` throws stops the run (the background
    /// thread is stopped and joined first) and is rethrown.
    public func run(_ names: [String], deliver: (Int, Result<Prediction, any Error>) throws -> Void) throws {
        guard !names.isEmpty else { return }
        let queue = PreparedBatchQueue(capacity: 2)
        let prepare = BatchPreparation(names: names, batchSize: batchSize, preprocessor: detector.preprocessor, load: load, queue: queue)
        let thread = Thread { prepare.run() }
        thread.name = "clipad.prediction-pipeline"
        thread.start()
        // Stop and join the preparing thread whatever happens here, so no thread outlives the call.
        defer { queue.cancelAndWaitForProducer() }
        while let batch = queue.next() {
            let results = score(batch)
            queue.release()
            for (offset, result) in results.enumerated() { try deliver(batch.start + offset, result) }
        }
    }

    /// One prepared batch's results, in input order.
    func score(_ batch: PreparedBatch) -> [Result<Prediction, any Error>] {
        let rows = batch.pixels.map { scoreRows($0, batch.images) } ?? []
        return batch.entries.map { entry in
            switch entry {
            case let .failed(error): return .failure(error)
            case let .row(row): return rows[row]
            }
        }
    }

    /// The batch's images in one forward pass; when it throws (one image's non-finite score spoils the batch), each
    /// image on its own, as the image-by-image path runs it, so every image gets its own result or error.
    func scoreRows(_ pixels: Tensor, _ images: [PreparedBatch.PreparedImage]) -> [Result<Prediction, any Error>] {
        do {
            let predictions = try detector.predict(pixels: pixels, imageSizes: images.map(\.size), names: images.map(\.name), context: context)
            return zip(images, predictions).map { .success(withPreprocessTime($1, $0)) }
        } catch {
            return images.enumerated().map { row, image in
                Result {
                    let p = try detector.predict(pixels: pixels.slice(rows: row..<(row + 1)), imageSizes: [image.size],
                                                 names: [image.name], context: context)[0]
                    return withPreprocessTime(p, image)
                }
            }
        }
    }

    func withPreprocessTime(_ p: Prediction, _ image: PreparedBatch.PreparedImage) -> Prediction {
        var p = p
        p.timings.preprocessSeconds = image.preprocessSeconds
        return p
    }
}
