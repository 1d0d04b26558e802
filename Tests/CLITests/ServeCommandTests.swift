import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `clipad serve` as a user runs it: it prints where it listens, answers health, and exits 0 on SIGTERM.
final class ServeCommandTests: XCTestCase {
    func testServeAnswersHealthAndShutsDownOnSIGTERM() throws {
        guard let binary = CLIRunner.binary else { throw XCTSkip("the clipad binary is not built beside the tests (run `make test`)") }
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--model-repository", repository.path, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // First stdout line: "clipad serve: 0 of 0 model(s) ready at http://127.0.0.1:PORT".
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "http://127.0.0.1:") else { return XCTFail("no address in \(text)") }
        let port = text[range.upperBound...].prefix { $0.isNumber }
        XCTAssertFalse(port.isEmpty, text)

        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var status = -1 }  // written before signal, read after wait
        let box = Box()
        URLSession.shared.dataTask(with: URL(string: "http://127.0.0.1:\(port)/v2/health/live")!) { _, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode ?? -1
            done.signal()
        }.resume()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(box.status, 200)

        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        XCTAssertFalse(process.isRunning, "still running 30 s after SIGTERM")
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
