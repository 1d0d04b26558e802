import AsyncHTTPClient
import ClipADServer
import Foundation
import HTTPTypes
import NIOCore
import XCTest

/// The shutdown drain: once SIGTERM / SIGINT start it, readiness is 503 "shutting down" and new infer/inspect
/// requests 503 with Retry-After, requests admitted before finish normally, and the process exits 0 after the drain.
extension ServerTests {
    func testDrainingAnswersReadiness503AndRefusesNewWorkWhileAdmittedRequestsFinish() async throws {
        let server = self.server { $0.maxBatch = 1 }
        let png = fixtures.pngs[0]
        let expected = try self.expected("bottle", png).score
        try await withClient(server) { c in
            let before = String(decoding: try await c.send("/metrics").body, as: UTF8.self)
            XCTAssertTrue(before.contains("clipad_draining 0"), before)
            let release = holdCores()
            // Admitted, computing (blocked on the held cores) when the drain begins.
            let inFlight = Task { try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "image/png"], body: png) }
            try await Task.sleep(nanoseconds: 300_000_000)
            server.beginDraining()

            let ready = try await c.send("/v2/health/ready")
            XCTAssertEqual(ready.status, .serviceUnavailable)
            XCTAssertEqual(ready.json["ready"] as? Bool, false)
            XCTAssertEqual(ready.json["reason"] as? String, "shutting down")
            let modelReady = try await c.send("/v2/models/bottle/ready")
            XCTAssertEqual(modelReady.status, .serviceUnavailable)
            XCTAssertEqual(modelReady.json["ready"] as? Bool, false)
            XCTAssertEqual(modelReady.json["reason"] as? String, "shutting down")
            let inspect = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "image/png"], body: png)
            let infer = try await c.infer("bottle", Self.inferRequest([png]))
            for (route, r) in [("inspect", inspect), ("infer", infer)] {
                XCTAssertEqual(r.status, .serviceUnavailable, "\(route): \(r.error)")
                XCTAssertEqual(r.headers[.retryAfter], "1", route)
                XCTAssertTrue(r.error.contains("shutting down"), "\(route): \(r.error)")
            }
            let live = try await c.send("/v2/health/live")
            XCTAssertEqual(live.status, .ok, "liveness stays 200: the process is healthy, only leaving")
            let during = String(decoding: try await c.send("/metrics").body, as: UTF8.self)
            XCTAssertTrue(during.contains("clipad_draining 1"), during)

            release.signal()
            let admitted = try await inFlight.value
            XCTAssertEqual(admitted.status, .ok, admitted.error)
            XCTAssertEqual((admitted.json["score"] as? Double).map(Float.init), expected)
        }
    }

    /// `clipad serve` as deployed: SIGTERM during a request. The request waits 4 s for its batch to fill
    /// (--max-queue-delay-ms), so it is still open when the 2 s drain period ends and the graceful shutdown begins.
    func testSIGTERMDrainsTheServeProcessThenExitsZero() async throws {
        let drainSeconds = 2.0
        let replica = try startReplica(repository: fixtures.repository,
                                       arguments: ["--drain-seconds", "\(drainSeconds)", "--max-queue-delay-ms", "4000", "--max-batch", "8"])
        defer { if replica.process.isRunning { kill(replica.process.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(replica.port)"
        let png = fixtures.pngs[0]
        let expected = try self.expected("bottle", png).score
        func send(_ path: String, body: Data? = nil) async throws -> (status: Int, retryAfter: String?, json: [String: Any]) {
            var request = HTTPClientRequest(url: base + path)
            if let body {
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "image/png")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let data = Data(try await response.body.collect(upTo: 1 << 24).readableBytesView)
            return (Int(response.status.code), response.headers.first(name: "Retry-After"),
                    (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
        let readyBefore = try await send("/v2/health/ready")
        XCTAssertEqual(readyBefore.status, 200)

        let inFlight = Task { try await send("/v1/models/bottle/inspect", body: png) }
        try await Task.sleep(nanoseconds: 500_000_000)  // admitted, waiting for its batch
        kill(replica.process.processIdentifier, SIGTERM)
        let signalled = Date()

        // Readiness flips at once (a probe sees 503, not a refused connection).
        var ready = try await send("/v2/health/ready")
        while ready.status != 503, Date().timeIntervalSince(signalled) < 1 {
            try await Task.sleep(nanoseconds: 20_000_000)
            ready = try await send("/v2/health/ready")
        }
        XCTAssertEqual(ready.status, 503, "readiness not 503 within 1 s of SIGTERM")
        XCTAssertEqual(ready.json["reason"] as? String, "shutting down")
        let modelReady = try await send("/v2/models/bottle/ready")
        XCTAssertEqual(modelReady.status, 503)
        XCTAssertEqual(modelReady.json["reason"] as? String, "shutting down")
        let refused = try await send("/v1/models/bottle/inspect", body: png)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), drainSeconds, "the checks above must fall inside the drain window")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.retryAfter, "1")
        XCTAssertTrue((refused.json["error"] as? String)?.contains("shutting down") == true, "\(refused.json)")

        let admitted = try await inFlight.value
        XCTAssertEqual(admitted.status, 200, "\(admitted.json)")
        XCTAssertEqual((admitted.json["score"] as? Double).map(Float.init), expected)
        XCTAssertGreaterThan(Date().timeIntervalSince(signalled), drainSeconds, "the admitted request was meant to outlast the drain period")

        while replica.process.isRunning, Date().timeIntervalSince(signalled) < drainSeconds + 5 {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let exitedAfter = Date().timeIntervalSince(signalled)
        XCTAssertFalse(replica.process.isRunning, "clipad serve still running \(exitedAfter) s after SIGTERM")
        guard !replica.process.isRunning else { return }
        XCTAssertEqual(replica.process.terminationReason, .exit)
        XCTAssertEqual(replica.process.terminationStatus, 0)
        XCTAssertGreaterThanOrEqual(exitedAfter, drainSeconds - 0.1, "exited before the drain period was over")
    }
}
