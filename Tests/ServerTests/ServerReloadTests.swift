import AsyncHTTPClient
import ClipADServer
import Detection
import Foundation
import HTTPTypes
import ImageIO
import XCTest

/// Reloading the model repository (SIGHUP): new, changed and removed entries take effect, unchanged ones keep their
/// loaded detector, and a request admitted before the reload finishes on the model it started with.
extension ServerTests {
    /// A private copy of the fixture repository (reload tests change it).
    func repositoryCopy() throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-reload-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: fixtures.repository, toPath: copy.path)
        return copy
    }

    func testReloadAddsChangesAndRemovesModelsWhileAnAdmittedRequestFinishesOnTheOldOne() async throws {
        let folder = try repositoryCopy()
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = ServerConfiguration()
        config.maxBatch = 1
        let server = InferenceServer(repository: try ModelRepository.load(folder: folder.path), configuration: config)
        let png = fixtures.pngs[1]
        let promptAD = try expected("bottle", png).score, anomalyCLIP = try expected("cable", png).score
        XCTAssertNotEqual(promptAD, anomalyCLIP, "the two fixture models must score differently for this test to tell them apart")
        let fm = FileManager.default
        let release = holdCores()
        try await withClient(server) { c in
            // Admitted on bottle's PromptAD model, computing (blocked on the held cores).
            let inFlight = Task { try await c.infer("bottle", Self.inferRequest([png], outputs: ["score"])) }
            try await Task.sleep(nanoseconds: 300_000_000)
            // bottle becomes an AnomalyCLIP entry (cable's files), cable goes, screw is new (a copy of bottle's old model).
            let bottle = folder.appendingPathComponent("bottle"), cable = folder.appendingPathComponent("cable"), screw = folder.appendingPathComponent("screw")
            try fm.createDirectory(at: screw, withIntermediateDirectories: true)
            try fm.moveItem(at: bottle.appendingPathComponent("promptad.safetensors"), to: screw.appendingPathComponent("promptad.safetensors"))
            for file in ["spec.json", "clip.safetensors", "prompts.safetensors"] {
                try fm.copyItem(at: cable.appendingPathComponent(file), to: bottle.appendingPathComponent(file))
            }
            try fm.removeItem(at: cable)
            // Loading may need the cores too: reload beside the held request, then let both go.
            let reload = Task.detached { try server.reload() }
            try await Task.sleep(nanoseconds: 300_000_000)
            release.signal()
            let summary = try await reload.value
            XCTAssertEqual(summary, ReloadSummary(added: ["screw"], changed: ["bottle"], removed: ["cable"], unchanged: ["broken"]))

            let old = try await inFlight.value
            XCTAssertEqual(old.status, .ok, old.error)
            XCTAssertEqual((Self.output(old, "score")?["data"] as? [Double])?.map(Float.init), [promptAD], "the admitted request ran on the old model")
            let new = try await c.infer("bottle", Self.inferRequest([png], outputs: ["score"]))
            XCTAssertEqual((Self.output(new, "score")?["data"] as? [Double])?.map(Float.init), [anomalyCLIP], "bottle now serves the AnomalyCLIP entry")
            let moved = try await c.infer("screw", Self.inferRequest([png], outputs: ["score"]))
            XCTAssertEqual((Self.output(moved, "score")?["data"] as? [Double])?.map(Float.init), [promptAD])
            let gone = try await c.infer("cable", Self.inferRequest([png]))
            XCTAssertEqual(gone.status, .notFound, gone.error)
            let metrics = String(decoding: try await c.send("/metrics").body, as: UTF8.self)
            XCTAssertTrue(metrics.contains("clipad_model_ready{model=\"screw\"} 1"), metrics)
            XCTAssertFalse(metrics.contains("clipad_model_ready{model=\"cable\"}"), metrics)
        }
        // Nothing changed on disk: every entry keeps its loaded detector.
        let before = server.repository.entries.mapValues { $0.detector.map(ObjectIdentifier.init) }
        let again = try server.reload()
        XCTAssertEqual(again, ReloadSummary(unchanged: ["bottle", "broken", "screw"]))
        XCTAssertEqual(server.repository.entries.mapValues { $0.detector.map(ObjectIdentifier.init) }, before)
    }

    /// `clipad serve` as deployed: a model folder added on disk serves after `kill -HUP`, the others still do.
    func testSIGHUPMakesTheServeProcessReloadItsRepository() async throws {
        let folder = try repositoryCopy()
        defer { try? FileManager.default.removeItem(at: folder) }
        let replica = try startReplica(repository: folder.path)
        defer { if replica.process.isRunning { kill(replica.process.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(replica.port)"
        func status(_ path: String) async -> Int {
            guard let r = try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + path), timeout: .seconds(10)) else { return -1 }
            return Int(r.status.code)
        }
        let before = await status("/v2/models/screw/ready")
        XCTAssertEqual(before, 404)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("bottle"), to: folder.appendingPathComponent("screw"))
        kill(replica.process.processIdentifier, SIGHUP)
        var after = -1
        for _ in 0..<200 where after != 200 {
            after = await status("/v2/models/screw/ready")
            if after != 200 { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        XCTAssertEqual(after, 200, "screw/ not served 10 s after SIGHUP")
        let bottle = await status("/v2/models/bottle/ready")
        XCTAssertEqual(bottle, 200)
        XCTAssertTrue(replica.process.isRunning, "SIGHUP must not end the process")
        kill(replica.process.processIdentifier, SIGTERM)
        replica.process.waitUntilExit()
        XCTAssertEqual(replica.process.terminationStatus, 0)
    }

    func testReloadOfAVanishedFolderKeepsServingThePreviousModels() throws {
        let folder = try repositoryCopy()
        let server = InferenceServer(repository: try ModelRepository.load(folder: folder.path), configuration: ServerConfiguration())
        try FileManager.default.removeItem(at: folder)
        XCTAssertThrowsError(try server.reload()) { XCTAssertTrue("\($0)".contains("is not a folder"), "\($0)") }
        XCTAssertEqual(server.repository.entries["bottle"]?.isReady, true)
    }
}
