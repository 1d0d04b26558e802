import Foundation

/// Prometheus counters, gauges and a histogram, written in the text exposition format (`GET /metrics`).
public final class ServerMetrics: @unchecked Sendable {  // state guarded by `lock`
    /// Compute latency bucket bounds, seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private let lock = NSLock()
    private var requests: [String: [Int: Int]] = [:]
    private var computeCounts: [String: [Int]] = [:]
    private var computeSums: [String: Double] = [:]
    private var queueDepth: [String: Int] = [:]
    private var ready: [String: Bool] = [:]

    public init() {}

    func countRequest(model: String, status: Int) {
        lock.withLock { requests[model, default: [:]][status, default: 0] += 1 }
    }

    func observeCompute(model: String, seconds: Double) {
        lock.withLock {
            var counts = computeCounts[model] ?? [Int](repeating: 0, count: Self.buckets.count + 1)
            let i = Self.buckets.firstIndex { seconds <= $0 } ?? Self.buckets.count
            counts[i] += 1
            computeCounts[model] = counts
            computeSums[model, default: 0] += seconds
        }
    }

    func setQueueDepth(model: String, _ depth: Int) { lock.withLock { queueDepth[model] = depth } }
    func setReady(model: String, _ isReady: Bool) { lock.withLock { ready[model] = isReady } }

    /// The exposition text.
    public func render() -> String {
        lock.withLock {
            var out = "# HELP clipad_requests_total HTTP requests by model and status code.\n# TYPE clipad_requests_total counter\n"
            for model in requests.keys.sorted() {
                for (status, n) in requests[model, default: [:]].sorted(by: { $0.key < $1.key }) {
                    out += "clipad_requests_total{model=\"\(model)\",code=\"\(status)\"} \(n)\n"
                }
            }
            out += "# HELP clipad_compute_seconds Time of one batched predict (preprocess, forward, scoring).\n# TYPE clipad_compute_seconds histogram\n"
            for model in computeCounts.keys.sorted() {
                let counts = computeCounts[model, default: []]
                var cumulative = 0
                for (i, bound) in Self.buckets.enumerated() {
                    cumulative += counts[i]
                    out += "clipad_compute_seconds_bucket{model=\"\(model)\",le=\"\(bound)\"} \(cumulative)\n"
                }
                cumulative += counts[Self.buckets.count]
                out += "clipad_compute_seconds_bucket{model=\"\(model)\",le=\"+Inf\"} \(cumulative)\n"
                out += "clipad_compute_seconds_sum{model=\"\(model)\"} \(computeSums[model, default: 0])\n"
                out += "clipad_compute_seconds_count{model=\"\(model)\"} \(cumulative)\n"
            }
            out += "# HELP clipad_queue_depth Requests waiting for a model.\n# TYPE clipad_queue_depth gauge\n"
            for model in ready.keys.sorted() { out += "clipad_queue_depth{model=\"\(model)\"} \(queueDepth[model, default: 0])\n" }
            out += "# HELP clipad_model_ready 1 when the model is loaded and serving.\n# TYPE clipad_model_ready gauge\n"
            for model in ready.keys.sorted() { out += "clipad_model_ready{model=\"\(model)\"} \(ready[model]! ? 1 : 0)\n" }
            return out
        }
    }
}
