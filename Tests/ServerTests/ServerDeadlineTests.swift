import ClipADServer
import Foundation
import HTTPTypes
import Tensor
import XCTest

/// Request deadlines: a queued request past its deadline is answered 504 at once and never computed; one whose
/// compute ends past it is answered 504; the deadline comes from the v2 `timeout` parameter, the header or the
/// server's default, and a bad value is a 400 naming it.
extension ServerTests {
    static let timeoutHeader = HTTPField.Name("Request-Timeout-Ms")!

    /// Holds the execution context (the cores) on another thread until the returned semaphore is signalled.
    func holdCores() -> DispatchSemaphore {
        let release = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
        Thread.detachNewThread { ExecutionContext.shared.run { held.signal(); release.wait() } }
        held.wait()
        return release
    }

    func testDeadlinePassedInTheQueueIs504AtOnceAndNotComputed() async throws {
        let server = self.server { $0.maxQueue = 4; $0.maxBatch = 1 }
        let png = fixtures.pngs[0]
        let release = holdCores()
        try await withClient(server) { c in
            // A: taken from the queue, computing (blocked on the held cores), deadline 500 ms.
            let first = Task { try await c.infer("bottle", Self.inferRequest([png]), headers: [.contentType: "application/json", Self.timeoutHeader: "500"]) }
            try await Task.sleep(nanoseconds: 200_000_000)
            // B: queued behind A with tritonclient's `timeout` (microseconds): answered when its deadline passes.
            var request = Self.inferRequest([png])
            request["parameters"] = ["timeout": 150_000]
            let sent = Date()
            let second = try await c.infer("bottle", request)
            let waited = Date().timeIntervalSince(sent)
            XCTAssertEqual(second.status, .gatewayTimeout, second.error)
            XCTAssertTrue(second.error.contains("not computed"), second.error)
            XCTAssertLessThan(waited, 2, "a queued request is answered at its deadline, not when the cores come back")
            try await Task.sleep(nanoseconds: 500_000_000)  // A's deadline passes while it computes
            release.signal()
            let a = try await first.value
            XCTAssertEqual(a.status, .gatewayTimeout, a.error)
            XCTAssertTrue(a.error.contains("while model 'bottle' computed"), a.error)
            let third = try await c.infer("bottle", Self.inferRequest([png]))
            XCTAssertEqual(third.status, .ok, third.error)
            let text = String(decoding: try await c.send("/metrics").body, as: UTF8.self)
            for line in ["clipad_compute_seconds_count{model=\"bottle\"} 2", "clipad_deadline_exceeded_total{model=\"bottle\",stage=\"queue\"} 1",
                         "clipad_deadline_exceeded_total{model=\"bottle\",stage=\"compute\"} 1", "clipad_requests_total{model=\"bottle\",code=\"504\"} 2",
                         "clipad_queue_wait_seconds_count{model=\"bottle\"} 2", "clipad_batch_images_count{model=\"bottle\"} 2",
                         "clipad_in_flight_requests{model=\"bottle\"} 0", "clipad_queue_depth_requests{model=\"bottle\"} 0"] {
                XCTAssertTrue(text.contains(line), "missing \(line) in\n\(text)")
            }
        }
    }

    func testServerDefaultDeadlineAppliesAndARequestCanLiftIt() async throws {
        let server = self.server { $0.requestTimeoutMs = 100; $0.maxBatch = 1 }
        let png = fixtures.pngs[0]
        let release = holdCores()
        try await withClient(server) { c in
            // Header 0: no deadline, whatever the server's default; it holds the worker until the cores come back.
            let patient = Task { try await c.infer("bottle", Self.inferRequest([png]), headers: [.contentType: "application/json", Self.timeoutHeader: "0"]) }
            try await Task.sleep(nanoseconds: 200_000_000)
            let timedOut = try await c.infer("bottle", Self.inferRequest([png]))
            XCTAssertEqual(timedOut.status, .gatewayTimeout, timedOut.error)
            XCTAssertTrue(timedOut.error.contains("not computed"), timedOut.error)
            release.signal()
            let r = try await patient.value
            XCTAssertEqual(r.status, .ok, r.error)
            // The inspect route takes the same header.
            let inspect = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "image/png", Self.timeoutHeader: "5000"], body: png)
            XCTAssertEqual(inspect.status, .ok, inspect.error)
        }
    }

    func testBadDeadlinesAre400NamingTheField() async throws {
        let server = self.server()
        let png = fixtures.pngs[0]
        try await withClient(server) { c in
            for bad in ["soon", "-5", "1e12"] {
                let r = try await c.infer("bottle", Self.inferRequest([png]), headers: [.contentType: "application/json", Self.timeoutHeader: bad])
                XCTAssertEqual(r.status, .badRequest, bad)
                XCTAssertTrue(r.error.contains("Request-Timeout-Ms"), r.error)
            }
            for bad: Any in ["soon", -1, 1.5] {
                var request = Self.inferRequest([png])
                request["parameters"] = ["timeout": bad]
                let r = try await c.infer("bottle", request)
                XCTAssertEqual(r.status, .badRequest, "\(bad)")
                XCTAssertTrue(r.error.contains("parameters.timeout"), r.error)
            }
        }
    }
}
