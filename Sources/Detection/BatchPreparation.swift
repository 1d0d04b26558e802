import Dispatch
import CLIP
import ImageIO
import Tensor

/// The background half of `PredictionPipeline`: decodes and preprocesses the inputs in order, `batchSize` usable
/// images per `PreparedBatch`, and hands each to the queue. It reserves a queue slot before it decodes, so it never
/// runs more than the queue's capacity of batches ahead of the scoring.
struct BatchPreparation: Sendable {
    let names: [String]
    let batchSize: Int
    let preprocessor: ImagePreprocessor
    let load: @Sendable (String) throws -> Image
    let queue: PreparedBatchQueue

    func run() {
        defer { queue.finish() }
        var next = 0
        while next < names.count {
            guard queue.reserveSlot() else { return }
            let start = next
            var entries: [PreparedBatch.Entry] = [], images: [PreparedBatch.PreparedImage] = [], rows: [Tensor] = []
            while next < names.count, rows.count < batchSize {
                if queue.isCancelled { return }
                let began = DispatchTime.now().uptimeNanoseconds
                do {
                    // The checks and the order of the image-by-image path (`Detector.predict(_:names:)`).
                    let image = try load(names[next])
                    try preprocessor.validate(image)
                    rows.append(preprocessor.tensor(from: image).reshaped([1, 3, preprocessor.size, preprocessor.size]))
                    images.append(.init(name: names[next], size: (image.width, image.height),
                                        preprocessSeconds: Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9))
                    entries.append(.row(rows.count - 1))
                } catch {
                    entries.append(.failed(error))
                }
                next += 1
            }
            let pixels = rows.isEmpty ? nil : rows.count == 1 ? rows[0] : Tensor.concatenate(rows)
            queue.put(PreparedBatch(start: start, entries: entries, images: images, pixels: pixels))
        }
    }
}
