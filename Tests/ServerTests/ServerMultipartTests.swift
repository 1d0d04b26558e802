import ClipADServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// `POST /v1/models/NAME/inspect` with a `multipart/form-data` body (curl -F, an HTML form): the same answer as the
/// raw body of the same file, through a real curl too; every malformed body is a 400 naming what is wrong.
extension ServerTests {
    struct FormPart {
        var name: String?
        var filename: String?
        var type: String?
        var body: Data
    }

    /// A multipart body as a browser writes it: `--B CRLF headers CRLF CRLF bytes CRLF` per part, then `--B--`.
    static func multipartBody(_ parts: [FormPart], boundary: String, preamble: String = "", epilogue: String = "") -> Data {
        var data = Data(preamble.utf8)
        if !preamble.isEmpty { data.append(Data("\r\n".utf8)) }
        for part in parts {
            var disposition = "Content-Disposition: form-data"
            if let name = part.name { disposition += "; name=\"\(name)\"" }
            if let filename = part.filename { disposition += "; filename=\"\(filename)\"" }
            data.append(Data("--\(boundary)\r\n\(disposition)\r\n".utf8))
            if let type = part.type { data.append(Data("Content-Type: \(type)\r\n".utf8)) }
            data.append(Data("\r\n".utf8))
            data.append(part.body)
            data.append(Data("\r\n".utf8))
        }
        data.append(Data("--\(boundary)--\r\n\(epilogue)".utf8))
        return data
    }

    func testMultipartInspectReturnsExactlyTheRawBodysAnswer() async throws {
        let server = self.server()
        let png = fixtures.pngs[1]
        let expected = try self.expected("bottle", png)
        let uri = "/v1/models/bottle/inspect?map=png&color_scale=per-image"
        let note = FormPart(name: "note", body: Data("line 3".utf8))
        let forms: [(String, String, Data)] = [
            ("a named image part with its type, unquoted boundary", "multipart/form-data; boundary=XyZ-123",
             Self.multipartBody([FormPart(name: "image", filename: "part.png", type: "image/png", body: png)], boundary: "XyZ-123")),
            ("a quoted boundary with RFC 2046's specials, a text field first, the file part named otherwise, sniffed",
             #"multipart/form-data; charset=utf-8; boundary="a b'()+_,-./:=?""#,
             Self.multipartBody([note, FormPart(name: "upload", filename: "part.bin", type: "application/octet-stream", body: png)],
                                boundary: "a b'()+_,-./:=?", preamble: "ignored preamble", epilogue: "ignored epilogue")),
            ("a part named image without filename or type", "Multipart/Form-Data; BOUNDARY=q",
             Self.multipartBody([FormPart(name: "image", body: png), note], boundary: "q")),
        ]
        try await withClient(server) { c in
            let raw = try await c.send(uri, .post, headers: [.contentType: "image/png"], body: png)
            XCTAssertEqual(raw.status, .ok, raw.error)
            XCTAssertEqual((raw.json["score"] as? Double).map(Float.init), expected.score)
            for (what, contentType, body) in forms {
                let r = try await c.send(uri, .post, headers: [.contentType: contentType], body: body)
                XCTAssertEqual(r.status, .ok, "\(what): \(r.error)")
                XCTAssertEqual(r.json["score"] as? Double, raw.json["score"] as? Double, what)
                XCTAssertEqual(r.json["map_png"] as? String, raw.json["map_png"] as? String, what)
                XCTAssertEqual(r.json["color_scale"] as? String, "per-image", what)
            }
        }
    }

    /// curl -F as an operator would type it, against the server on a socket.
    func testCurlFormUploadInspectsTheFile() async throws {
        let curl = try ExternalTools.program("curl")
        let server = self.server()
        let png = fixtures.pngs[0]
        let expected = try self.expected("bottle", png).score
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("part.png"), unknown = folder.appendingPathComponent("part.data")
        try png.write(to: file)
        try png.write(to: unknown)
        try await server.application().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            // part.png goes as image/png; part.data as application/octet-stream (sniffed), under another field name.
            for form in ["image=@\(file.path)", "upload=@\(unknown.path)"] {
                let (status, output) = try await ExternalTools.run(curl, ["-sS", "--fail-with-body", "-F", form,
                                                                          "http://127.0.0.1:\(port)/v1/models/bottle/inspect?map=png"])
                XCTAssertEqual(status, 0, output)
                let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
                XCTAssertEqual((json?["score"] as? Double).map(Float.init), expected, output)
                XCTAssertNotNil(json?["map_png"] as? String, output)
            }
        }
    }

    func testHostileMultipartBodiesAre400NamingTheProblem() async throws {
        let server = self.server()
        let png = fixtures.pngs[0]
        let image = FormPart(name: "image", filename: "a.png", type: "image/png", body: png)
        let b = "b0undary"
        let type = "multipart/form-data; boundary=\(b)"
        let longBoundary = String(repeating: "x", count: 71)
        let parts17 = Self.multipartBody(Array(repeating: FormPart(name: "f", body: Data("x".utf8)), count: 17), boundary: b)
        let cases: [(String, String, Data, String)] = [
            ("missing boundary", "multipart/form-data", Self.multipartBody([image], boundary: b), "no boundary parameter"),
            ("empty quoted boundary", #"multipart/form-data; boundary="""#, Self.multipartBody([image], boundary: b), "no boundary parameter"),
            ("boundary over 70 characters", "multipart/form-data; boundary=\(longBoundary)",
             Self.multipartBody([image], boundary: longBoundary), "71 characters long; RFC 2046 allows at most 70"),
            ("boundary with a character RFC 2046 forbids", #"multipart/form-data; boundary="a@b""#, Data(), "contains '@'"),
            ("no delimiter at all", type, Data("just some bytes".utf8), "no delimiter line '--\(b)'"),
            ("no closing delimiter", type, Data("--\(b)\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n".utf8) + png,
             "no closing delimiter '--\(b)--'"),
            ("body ends right after a delimiter", type, Data("--\(b)".utf8), "no closing delimiter"),
            ("no image part", type, Self.multipartBody([FormPart(name: "note", body: png)], boundary: b), "no part named 'image' and no file part (parts: 'note')"),
            ("header block without CRLFCRLF", type, Data("--\(b)\r\nContent-Disposition: form-data; name=\"image\"\r\n--\(b)--\r\n".utf8),
             "part 1's header block does not end with an empty line"),
            ("over-long part headers", type,
             Self.multipartBody([FormPart(name: "image", filename: String(repeating: "n", count: 9000), body: png)], boundary: b),
             "part 1's headers are longer than 8192 bytes"),
            ("a header line without a colon", type, Data("--\(b)\r\nnot a header\r\n\r\nx\r\n--\(b)--".utf8), "part 1 has a header line without ':'"),
            ("delimiter line not ended by CRLF", type, Data("--\(b)garbage\r\n\r\nx\r\n--\(b)--".utf8), "delimiter line before part 1 does not end with CRLF"),
            ("zero parts", type, Data("--\(b)--\r\n".utf8), "zero parts"),
            ("a huge number of parts", type, parts17, "more than 16 parts"),
            ("an image part that is no image", type, Self.multipartBody([FormPart(name: "image", type: "image/png", body: Data("GIF89a".utf8))], boundary: b),
             "multipart part 'image' (declared image/png): not a decodable PNG or JPEG"),
        ]
        try await withClient(server) { c in
            for (what, contentType, body, message) in cases {
                let r = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: contentType], body: body)
                XCTAssertEqual(r.status, .badRequest, "\(what): \(r.status) \(r.error)")
                XCTAssertTrue(r.error.contains(message), "\(what): expected '\(message)' in '\(r.error)'")
            }
            // Near-delimiters over and over (a naive search would rescan each one): answered at once, not a hang.
            let boundary = String(repeating: "z", count: 70)
            var trap = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n".utf8)
            trap.append(Data(String(repeating: "\r\n--" + String(repeating: "z", count: 69) + "y", count: 40_000).utf8))
            let sent = Date()
            let r = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: trap)
            XCTAssertEqual(r.status, .badRequest, r.error)
            XCTAssertTrue(r.error.contains("no closing delimiter"), r.error)
            XCTAssertLessThan(Date().timeIntervalSince(sent), 5, "a \(trap.count)-byte body of near-delimiters took too long")
            // Other media types are still 415, naming the accepted ones.
            let text = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: "text/plain"], body: png)
            XCTAssertEqual(text.status, .unsupportedMediaType)
            XCTAssertTrue(text.error.contains("multipart/form-data"), text.error)
        }
        // The body limit (--max-body) covers the whole multipart body.
        let small = self.server { $0.maxBody = 100 }
        XCTAssertGreaterThan(png.count, 100)
        try await withClient(small) { c in
            let r = try await c.send("/v1/models/bottle/inspect", .post, headers: [.contentType: type], body: Self.multipartBody([image], boundary: b))
            XCTAssertEqual(r.status, .contentTooLarge, r.error)
        }
    }
}
