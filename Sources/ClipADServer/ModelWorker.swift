import Detection
import Dispatch
import Foundation
import ImageIO
import Tensor

/// One loaded model's request queue: a bounded queue (full -> `ServerError.queueFull`, answered 503) drained by one
/// serial dispatch queue off the NIO event loops, which batches what is queued (up to `maxBatch` images, waiting
/// at most `maxQueueDelay` for a batch to fill) into one `Detector.predict` (which runs in the execution context).
/// A request with a deadline that passes while it waits is taken out of the queue at once, never computed, and
/// answered `deadlineExceeded` (504); one whose compute ends after its deadline is answered 504 too.
final class ModelWorker: @unchecked Sendable {  // state guarded by `lock`
    /// What one request sends: decoded images (batched with other requests), or preprocessed pixels [B, 3, S, S]
    /// (computed as a batch of their own).
    enum Input {
        case images([Image])
        case pixels(Tensor)

        var count: Int {
            switch self {
            case .images(let images): return images.count
            case .pixels(let t): return t.shape[0]
            }
        }
    }

    struct Job {
        let id: UInt64
        let input: Input
        var count: Int { input.count }
        /// `DispatchTime.uptimeNanoseconds` after which the answer is useless to the client; nil: none.
        let deadline: UInt64?
        let enqueued: UInt64
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
    private var nextID: UInt64 = 0
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

    /// Scores `images` (one request) once its turn comes; throws `queueFull` at once when the queue is full, and
    /// `deadlineExceeded` when `deadline` (uptime nanoseconds) passes first.
    func predict(_ images: [Image], deadline: UInt64? = nil) async throws -> [Prediction] {
        try await predict(.images(images), deadline: deadline)
    }

    func predict(_ input: Input, deadline: UInt64? = nil) async throws -> [Prediction] {
        let now = DispatchTime.now().uptimeNanoseconds
        if let deadline, deadline <= now {
            metrics.countDeadlineExceeded(model: name, stage: .queue)
            throw ServerError.deadlineExceeded(model: name, stage: .queue)
        }
        return try await withCheckedThrowingContinuation { continuation in
            let admitted: (id: UInt64, start: Bool)? = lock.withLock {
                guard pending.count < maxQueue else { return nil }
                nextID &+= 1
                pending.append(Job(id: nextID, input: input, deadline: deadline, enqueued: now, continuation: continuation))
                metrics.setQueueDepth(model: name, pending.count)
                if draining { return (nextID, false) }
                draining = true
                return (nextID, true)
            }
            guard let admitted else {
                continuation.resume(throwing: ServerError.queueFull(model: name, limit: maxQueue))
                return
            }
            if let deadline {
                DispatchQueue.global().asyncAfter(deadline: DispatchTime(uptimeNanoseconds: deadline)) { self.expire(admitted.id) }
            }
            if admitted.start { queue.async { self.drain() } }
        }
    }

    /// The deadline of job `id` passed: if it is still queued, it leaves the queue without compute.
    private func expire(_ id: UInt64) {
        let job: Job? = lock.withLock {
            guard let i = pending.firstIndex(where: { $0.id == id }) else { return nil }
            let job = pending.remove(at: i)
            metrics.setQueueDepth(model: name, pending.count)
            return job
        }
        guard let job else { return }
        metrics.countDeadlineExceeded(model: name, stage: .queue)
        job.continuation.resume(throwing: ServerError.deadlineExceeded(model: name, stage: .queue))
    }

    /// One batch's pixels [N, 3, S, S] and original sizes: decoded images preprocessed as `Detector.predict` does it,
    /// FP32 requests as sent (already validated at S x S), concatenated in queue order. Each image is preprocessed on
    /// its own, so a request scores the same whatever it is batched with.
    private func pixels(of batch: [Job]) throws -> (pixels: Tensor, sizes: [(width: Int, height: Int)]) {
        let preprocessor = detector.preprocessor
        var parts: [Tensor] = [], sizes: [(width: Int, height: Int)] = []
        for job in batch {
            switch job.input {
            case .images(let images):
                for image in images { try preprocessor.validate(image) }
                parts.append(preprocessor.batch(images))
                sizes += images.map { (width: $0.width, height: $0.height) }
            case .pixels(let t):
                parts.append(t)
                sizes += Array(repeating: (width: preprocessor.size, height: preprocessor.size), count: t.shape[0])
            }
        }
        return (parts.count == 1 ? parts[0] : Tensor.concatenate(parts), sizes)
    }

    private func drain() {
        while true {
            if maxQueueDelay > 0 {
                let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(maxQueueDelay * 1e9)
                while lock.withLock({ pending.reduce(0) { $0 + $1.count } }) < maxBatch,
                      DispatchTime.now().uptimeNanoseconds < deadline {
                    usleep(200)
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let (batch, expired): ([Job], [Job]) = lock.withLock {
                var taken: [Job] = [], expired: [Job] = [], count = 0
                // Requests batch up to maxBatch images, encoded and FP32 alike (a larger request runs alone).
                while let next = pending.first, taken.isEmpty || count + next.count <= maxBatch {
                    pending.removeFirst()
                    if let d = next.deadline, d <= now { expired.append(next); continue }
                    taken.append(next)
                    count += next.count
                }
                if taken.isEmpty { draining = false }  // the queue is empty
                metrics.setQueueDepth(model: name, pending.count)
                return (taken, expired)
            }
            for job in expired {
                metrics.countDeadlineExceeded(model: name, stage: .queue)
                job.continuation.resume(throwing: ServerError.deadlineExceeded(model: name, stage: .queue))
            }
            if batch.isEmpty { return }
            let start = DispatchTime.now().uptimeNanoseconds
            for job in batch { metrics.observeQueueWait(model: name, seconds: Double(start - job.enqueued) / 1e9) }
            metrics.observeBatch(model: name, images: batch.reduce(0) { $0 + $1.count })
            metrics.addInFlight(model: name, batch.count)
            defer { metrics.addInFlight(model: name, -batch.count) }
            do {
                let (pixels, sizes) = try self.pixels(of: batch)
                let prepared = DispatchTime.now().uptimeNanoseconds
                let predictions = try detector.predict(pixels: pixels, imageSizes: sizes,
                                                       preprocessSeconds: Double(prepared - start) / 1e9)
                let end = DispatchTime.now().uptimeNanoseconds
                metrics.observeCompute(model: name, seconds: Double(end - start) / 1e9)
                var offset = 0
                for job in batch {
                    let mine = Array(predictions[offset..<offset + job.count])
                    offset += job.count
                    if let d = job.deadline, d < end {
                        metrics.countDeadlineExceeded(model: name, stage: .compute)
                        job.continuation.resume(throwing: ServerError.deadlineExceeded(model: name, stage: .compute))
                    } else {
                        job.continuation.resume(returning: mine)
                    }
                }
            } catch {
                for job in batch { job.continuation.resume(throwing: ServerError.internal("\(error)")) }
            }
        }
    }
}
