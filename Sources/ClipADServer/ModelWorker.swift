import Detection
import Dispatch
import Foundation
import ImageIO

/// One loaded model's request queue: a bounded queue (full -> `ServerError.queueFull`, answered 503) drained by one
/// serial dispatch queue off the NIO event loops, which batches what is queued (up to `maxBatch` images, waiting
/// at most `maxQueueDelay` for a batch to fill) into one `Detector.predict` (which runs in the execution context).
final class ModelWorker: @unchecked Sendable {  // state guarded by `lock`
    struct Job {
        let images: [Image]
        let continuation: CheckedContinuation<[Prediction], Error>
    }

    let name: String
    let detector: any Detector
    let maxQueue: Int
    let maxBatch: Int
    let maxQueueDelay: Double
    private let metrics: ServerMetrics
    private let lock = NSLock()
    private var pending: [Job] = []
    private var draining = false
    private let queue: DispatchQueue

    init(name: String, detector: any Detector, maxQueue: Int, maxBatch: Int, maxQueueDelay: Double, metrics: ServerMetrics) {
        self.name = name
        self.detector = detector
        self.maxQueue = max(1, maxQueue)
        self.maxBatch = max(1, maxBatch)
        self.maxQueueDelay = max(0, maxQueueDelay)
        self.metrics = metrics
        self.queue = DispatchQueue(label: "clipad.serve.\(name)")
    }

    var depth: Int { lock.withLock { pending.count } }

    /// Scores `images` (one request) once its turn comes; throws `queueFull` at once when the queue is full.
    func predict(_ images: [Image]) async throws -> [Prediction] {
        try await withCheckedThrowingContinuation { continuation in
            let start: Bool? = lock.withLock {
                guard pending.count < maxQueue else { return nil }
                pending.append(Job(images: images, continuation: continuation))
                metrics.setQueueDepth(model: name, pending.count)
                if draining { return false }
                draining = true
                return true
            }
            guard let start else {
                continuation.resume(throwing: ServerError.queueFull(model: name, limit: maxQueue))
                return
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            if maxQueueDelay > 0 {
                let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(maxQueueDelay * 1e9)
                while lock.withLock({ pending.reduce(0) { $0 + $1.images.count } }) < maxBatch,
                      DispatchTime.now().uptimeNanoseconds < deadline {
                    usleep(200)
                }
            }
            let batch: [Job] = lock.withLock {
                var taken: [Job] = [], count = 0
                while let next = pending.first, taken.isEmpty || count + next.images.count <= maxBatch {
                    taken.append(pending.removeFirst())
                    count += next.images.count
                }
                if taken.isEmpty { draining = false }
                metrics.setQueueDepth(model: name, pending.count)
                return taken
            }
            if batch.isEmpty { return }
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                let predictions = try detector.predict(batch.flatMap(\.images))
                metrics.observeCompute(model: name, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                var offset = 0
                for job in batch {
                    job.continuation.resume(returning: Array(predictions[offset..<offset + job.images.count]))
                    offset += job.images.count
                }
            } catch {
                for job in batch { job.continuation.resume(throwing: ServerError.internal("\(error)")) }
            }
        }
    }
}
