import Foundation

/// Prometheus counters, gauges and histograms by model, written in the text exposition format (`GET /metrics`).
public final class ServerMetrics: @unchecked Sendable {  // state guarded by `lock`
    /// Latency bucket bounds, seconds (compute and queue wait).
    static let secondsBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Batch size bucket bounds, images.
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64]

    /// One histogram's cumulative-ready state (per-bucket counts, the last one +Inf).
    struct Histogram {
        var counts: [Int]
        var sum = 0.0
        init(buckets: Int) { counts = [Int](repeating: 0, count: buckets + 1) }
        mutating func observe(_ value: Double, bounds: [Double]) {
            counts[bounds.firstIndex { value <= $0 } ?? bounds.count] += 1
            sum += value
        }
    }

    private let lock = NSLock()
    private var requests: [String: [Int: Int]] = [:]
    private var compute: [String: Histogram] = [:]
    private var queueWait: [String: Histogram] = [:]
    private var batches: [String: Histogram] = [:]
    private var deadlines: [String: [DeadlineStage: Int]] = [:]
    private var queueDepth: [String: Int] = [:]
    private var inFlight: [String: Int] = [:]
    private var ready: [String: Bool] = [:]

    public init() {}

    func countRequest(model: String, status: Int) {
        lock.withLock { requests[model, default: [:]][status, default: 0] += 1 }
    }

    func observeCompute(model: String, seconds: Double) {
        lock.withLock { compute[model, default: Histogram(buckets: Self.secondsBuckets.count)].observe(seconds, bounds: Self.secondsBuckets) }
    }

    func observeQueueWait(model: String, seconds: Double) {
        lock.withLock { queueWait[model, default: Histogram(buckets: Self.secondsBuckets.count)].observe(seconds, bounds: Self.secondsBuckets) }
    }

    func observeBatch(model: String, images: Int) {
        lock.withLock { batches[model, default: Histogram(buckets: Self.batchBuckets.count)].observe(Double(images), bounds: Self.batchBuckets) }
    }

    func countDeadlineExceeded(model: String, stage: DeadlineStage) {
        lock.withLock { deadlines[model, default: [:]][stage, default: 0] += 1 }
    }

    func setQueueDepth(model: String, _ depth: Int) { lock.withLock { queueDepth[model] = depth } }
    func addInFlight(model: String, _ delta: Int) { lock.withLock { inFlight[model, default: 0] += delta } }
    func setReady(model: String, _ isReady: Bool) { lock.withLock { ready[model] = isReady } }
    /// A model left the repository (reload): its gauges go; its counters stay (Prometheus counters never go back).
    func removeModel(_ model: String) { lock.withLock { ready[model] = nil; queueDepth[model] = nil; inFlight[model] = nil } }

    /// The exposition text.
    public func render() -> String {
        lock.withLock {
            var out = "# HELP clipad_requests_total HTTP requests by model and status code.\n# TYPE clipad_requests_total counter\n"
            for model in requests.keys.sorted() {
                for (status, n) in requests[model, default: [:]].sorted(by: { $0.key < $1.key }) {
                    out += "clipad_requests_total{model=\"\(model)\",code=\"\(status)\"} \(n)\n"
                }
            }
            Self.write(&out, "clipad_compute_seconds", "Time of one batched predict (preprocess, forward, scoring).", compute, Self.secondsBuckets)
            Self.write(&out, "clipad_queue_wait_seconds", "Time a request waited in its model's queue before compute.", queueWait, Self.secondsBuckets)
            Self.write(&out, "clipad_batch_images", "Images per batched predict.", batches, Self.batchBuckets)
            out += "# HELP clipad_deadline_exceeded_total Requests answered 504: deadline passed while queued (not computed) or computing.\n"
            out += "# TYPE clipad_deadline_exceeded_total counter\n"
            for model in deadlines.keys.sorted() {
                for (stage, n) in deadlines[model, default: [:]].sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    out += "clipad_deadline_exceeded_total{model=\"\(model)\",stage=\"\(stage.rawValue)\"} \(n)\n"
                }
            }
            out += "# HELP clipad_queue_depth Requests waiting for a model.\n# TYPE clipad_queue_depth gauge\n"
            for model in ready.keys.sorted() { out += "clipad_queue_depth{model=\"\(model)\"} \(queueDepth[model, default: 0])\n" }
            out += "# HELP clipad_in_flight_requests Requests being computed.\n# TYPE clipad_in_flight_requests gauge\n"
            for model in ready.keys.sorted() { out += "clipad_in_flight_requests{model=\"\(model)\"} \(inFlight[model, default: 0])\n" }
            out += "# HELP clipad_model_ready 1 when the model is loaded and serving.\n# TYPE clipad_model_ready gauge\n"
            for model in ready.keys.sorted() { out += "clipad_model_ready{model=\"\(model)\"} \(ready[model]! ? 1 : 0)\n" }
            return out
        }
    }

    private static func write(_ out: inout String, _ name: String, _ help: String, _ histograms: [String: Histogram], _ bounds: [Double]) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for model in histograms.keys.sorted() {
            let h = histograms[model]!
            var cumulative = 0
            for (i, bound) in bounds.enumerated() {
                cumulative += h.counts[i]
                out += "\(name)_bucket{model=\"\(model)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            cumulative += h.counts[bounds.count]
            out += "\(name)_bucket{model=\"\(model)\",le=\"+Inf\"} \(cumulative)\n"
            out += "\(name)_sum{model=\"\(model)\"} \(h.sum)\n"
            out += "\(name)_count{model=\"\(model)\"} \(cumulative)\n"
        }
    }
}
