import Foundation
import Prometheus

/// The server's Prometheus metrics by model (swift-prometheus registry, text exposition format at `GET /metrics`).
/// Names carry their unit (`_seconds`, `_images`, `_total`).
public final class ServerMetrics: Sendable {
    /// Latency bucket bounds, seconds (compute and queue wait).
    static let secondsBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Batch size bucket bounds, images.
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64]

    static let requests = MetricNameDescriptor(namespace: "clipad", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests by model and status code.")
    static let compute = MetricNameDescriptor(namespace: "clipad", metricName: "compute", unitName: "seconds",
                                              helpText: "Time of one batched predict (preprocess, forward, scoring).")
    static let queueWait = MetricNameDescriptor(namespace: "clipad", metricName: "queue_wait", unitName: "seconds",
                                                helpText: "Time a request waited in its model's queue before compute.")
    static let batch = MetricNameDescriptor(namespace: "clipad", metricName: "batch", unitName: "images", helpText: "Images per batched predict.")
    static let deadlines = MetricNameDescriptor(namespace: "clipad", metricName: "deadline_exceeded", unitName: "total",
                                                helpText: "Requests answered 504: deadline passed while queued (not computed) or computing.")
    static let queueDepth = MetricNameDescriptor(namespace: "clipad", metricName: "queue_depth", unitName: "requests",
                                                 helpText: "Requests waiting for a model.")
    static let inFlight = MetricNameDescriptor(namespace: "clipad", metricName: "in_flight", unitName: "requests",
                                               helpText: "Requests being computed.")
    static let ready = MetricNameDescriptor(namespace: "clipad", metricName: "model_ready", unitName: "",
                                            helpText: "1 when the model is loaded and serving.")

    static let draining = MetricNameDescriptor(namespace: "clipad", metricName: "draining", unitName: "",
                                               helpText: "1 once SIGTERM / SIGINT started the shutdown drain (readiness 503, new work refused).")

    private let registry = PrometheusCollectorRegistry()

    public init() {
        setDraining(false)
    }

    func setDraining(_ isDraining: Bool) {
        registry.makeGauge(descriptor: Self.draining).set(Double(isDraining ? 1 : 0))
    }

    func countRequest(model: String, status: Int) {
        registry.makeCounter(descriptor: Self.requests, labels: [("model", model), ("code", "\(status)")]).increment()
    }

    func observeCompute(model: String, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.compute, labels: [("model", model)], buckets: Self.secondsBuckets).record(seconds)
    }

    func observeQueueWait(model: String, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.queueWait, labels: [("model", model)], buckets: Self.secondsBuckets).record(seconds)
    }

    func observeBatch(model: String, images: Int) {
        registry.makeValueHistogram(descriptor: Self.batch, labels: [("model", model)], buckets: Self.batchBuckets).record(Double(images))
    }

    func countDeadlineExceeded(model: String, stage: DeadlineStage) {
        registry.makeCounter(descriptor: Self.deadlines, labels: [("model", model), ("stage", stage.rawValue)]).increment()
    }

    func setQueueDepth(model: String, _ depth: Int) {
        registry.makeGauge(descriptor: Self.queueDepth, labels: [("model", model)]).set(Double(depth))
    }

    func addInFlight(model: String, _ delta: Int) {
        registry.makeGauge(descriptor: Self.inFlight, labels: [("model", model)]).increment(by: Double(delta))
    }

    func setReady(model: String, _ isReady: Bool) {
        registry.makeGauge(descriptor: Self.ready, labels: [("model", model)]).set(Double(isReady ? 1 : 0))
        // Every served model shows its gauges from the start (a scrape sees 0, not nothing); an existing one keeps its value.
        _ = registry.makeGauge(descriptor: Self.queueDepth, labels: [("model", model)])
        _ = registry.makeGauge(descriptor: Self.inFlight, labels: [("model", model)])
    }

    /// A model left the repository (reload): its gauges go; its counters stay (Prometheus counters never go back).
    func removeModel(_ model: String) {
        for descriptor in [Self.ready, Self.queueDepth, Self.inFlight] {
            registry.unregisterGauge(registry.makeGauge(descriptor: descriptor, labels: [("model", model)]))
        }
    }

    /// The exposition text.
    public func render() -> String { registry.emitToString() }
}
