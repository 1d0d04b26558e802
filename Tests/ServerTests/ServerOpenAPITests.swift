@testable import ClipADServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// `GET /openapi.json` describes exactly the routes the router has, and schemathesis (PyPI) fuzzes the live server
/// with it: no 5xx, every status, content type, header and body as documented.
extension ServerTests {
    func testOpenAPIDocumentListsExactlyTheRouterRoutes() async throws {
        let server = self.server()
        let routed = Set(server.router().routes.map { route in
            let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return "\(route.method.rawValue) \(path.isEmpty ? "/" : path)"
        })
        try await withClient(server) { c in
            let r = try await c.send("/openapi.json")
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.json["openapi"] as? String, "3.0.3")
            let paths = try XCTUnwrap(r.json["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
            XCTAssertEqual(documented, routed, "documented only: \(documented.subtracting(routed)); routed only: \(routed.subtracting(documented))")
            // Every $ref names a schema that exists.
            let schemas = try XCTUnwrap((r.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
            var refs: [String] = []
            func collect(_ value: Any) {
                if let d = value as? [String: Any] {
                    if let ref = d["$ref"] as? String { refs.append(ref) }
                    d.values.forEach(collect)
                } else if let a = value as? [Any] { a.forEach(collect) }
            }
            collect(r.json)
            XCTAssertGreaterThan(refs.count, 10)
            for ref in refs {
                XCTAssertTrue(ref.hasPrefix("#/components/schemas/"), ref)
                XCTAssertNotNil(schemas[String(ref.dropFirst("#/components/schemas/".count))], "dangling $ref \(ref)")
            }
        }
    }

    /// schemathesis against the live server on loopback, bounded (examples per operation, seed, time).
    func testSchemathesisFindsNoServerErrorOrSchemaViolation() async throws {
        let schemathesis = try ExternalTools.venvExecutable("schemathesis")
        // Only the ready models: a not-ready one answers 503 by design (KServe readiness), which the fuzzer counts as a
        // server error; that answer is tested in testBrokenEntryIsNotReadyWhileTheOthersServe.
        var config = ServerConfiguration()
        config.port = 0
        config.maxBody = 1 << 20
        let server = InferenceServer(repository: ModelRepository(folder: repository.folder, entries: repository.entries.filter { $0.value.isReady }),
                                     configuration: config)
        try await server.application().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let (status, output) = try await ExternalTools.run(schemathesis, [
                "run", "http://127.0.0.1:\(port)/openapi.json",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
                // A deadline the client asks for is answered 504 when it passes (documented, correct): fuzz without one.
                "--header", "Request-Timeout-Ms: 0",
                "--phases", "coverage,fuzzing", "--max-examples", "15", "--seed", "1234", "--workers", "1",
                "--generation-database", "none", "--no-color", "--request-timeout", "60", "--max-time", "90",
            ], timeout: 180)
            XCTAssertEqual(status, 0, output)
            XCTAssertFalse(output.contains("No operations"), output)
        }
    }
}
