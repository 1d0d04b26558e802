import ClipADServer
import Detection
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ImageIO
import XCTest

/// The operator's page: self-contained (nothing from the network), and used in a real browser (headless Chromium
/// through Selenium) to submit an image through its own form and show the result.
extension ServerTests {
    func testOperatorPageIsSelfContained() async throws {
        let server = self.server()
        try await withClient(server) { c in
            let r = try await c.send("/")
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertTrue(r.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            let html = String(decoding: r.body, as: UTF8.self)
            XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("//cdn"), "the page must not load anything from the network")
            for id in ["id=\"model\"", "id=\"files\"", "id=\"threshold\"", "id=\"results\"", "/v1/models/", "map=png"] {
                XCTAssertTrue(html.contains(id), "page lacks \(id)")
            }
            let list = try await c.send("/v1/models")
            let models = try XCTUnwrap(list.json["models"] as? [[String: Any]])
            XCTAssertEqual(models.map { $0["name"] as? String }, ["bottle", "broken", "cable"])
            XCTAssertEqual(models.map { $0["ready"] as? Bool }, [true, false, true])
            XCTAssertEqual(models[0]["map_size"] as? Int, 64)
            XCTAssertTrue((models[1]["error"] as? String)?.contains("missing.safetensors") == true)
        }
    }

    func testInspectColorScalesAndColourBar() async throws {
        let server = self.server()
        let png = fixtures.pngs[1]
        let expected = try self.expected("bottle", png)
        try await withClient(server) { c in
            var r = try await c.send("/v1/models/bottle/inspect?map=png&color_scale=per-image", .post, headers: [.contentType: "image/png"], body: png)
            XCTAssertEqual(r.status, .ok, r.error)
            XCTAssertEqual(r.json["color_scale"] as? String, "per-image")
            XCTAssertEqual((r.json["map_range"] as? [Double])?.map(Float.init), [expected.map.min()!, expected.map.max()!])
            let bar = try (r.json["colorbar_png"] as? String).flatMap { Data(base64Encoded: $0) }.map { try ImageDecoder.decode(data: $0, name: "bar", output: .rgb) }
            XCTAssertEqual(bar?.height, expected.mapSide)
            r = try await c.send("/v1/models/bottle/inspect?map=png", .post, headers: [.contentType: "image/png"], body: png)
            XCTAssertEqual(r.json["color_scale"] as? String, "fixed")
            let natural = try XCTUnwrap(repository.entries["bottle"]?.detector?.naturalMapRange)
            XCTAssertEqual((r.json["map_range"] as? [Double])?.map(Float.init), [natural.lowerBound, natural.upperBound])
            for bad in ["map=png&color_scale=per-class", "map=png&color_scale=rainbow", "map=jpeg"] {
                let b = try await c.send("/v1/models/bottle/inspect?\(bad)", .post, headers: [.contentType: "image/png"], body: png)
                XCTAssertEqual(b.status, .badRequest, bad)
                XCTAssertTrue(b.error.contains(String(bad.split(separator: "&").last!.prefix { $0 != "=" })), b.error)
            }
        }
    }

    /// Headless Chromium loads GET /, submits an image through the page's form, and the result is checked in the
    /// DOM (score, overlay, colour bar, local threshold recolouring, no console error); the screenshot is kept in
    /// .build/test-artifacts/operator-page.png.
    func testOperatorPageInHeadlessChromium() async throws {
        let python = try ExternalTools.venvExecutable("python")
        _ = try ExternalTools.program("chromium")
        _ = try ExternalTools.program("chromedriver")
        let script = ExternalTools.repositoryRoot.appendingPathComponent("tools/serve-client/check_operator_page.py").path
        let image = fixtures.folder.appendingPathComponent("page.png")
        try fixtures.pngs[1].write(to: image)
        let expected = try self.expected("cable", fixtures.pngs[1])
        let screenshot = ExternalTools.artifacts.appendingPathComponent("operator-page.png")
        try? FileManager.default.removeItem(at: screenshot)
        let server = self.server()
        try await server.application().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let (status, output) = try await ExternalTools.run(python, [script, "\(port)", "cable", image.path, "\(expected.score)", "\(expected.mapSide)", screenshot.path],
                                                               timeout: 180)
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.contains("operator page ok"), output)
        }
        let shot = try ImageDecoder.decode(data: Data(contentsOf: screenshot), name: "screenshot", output: .rgb)
        XCTAssertGreaterThan(shot.width, 600)
    }
}
