import AsyncHTTPClient
import ClipADServer
import Detection
import Foundation
import ImageIO
import NIOCore
import XCTest

/// deploy/nginx.conf in front of two `clipad serve` processes on loopback: one replica is killed (SIGKILL) in the
/// middle of a concurrent load, and every request still succeeds with its image's score (nginx retries on the other).
extension ServerTests {
    /// A started `clipad serve` child and the port it printed.
    struct Replica {
        let process: Process
        let port: Int
    }

    static var clipadBinary: String {
        get throws {
            let path = ExternalTools.repositoryRoot.appendingPathComponent(".build/release/clipad").path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw XCTSkipFailure("no \(path): build with `swift build -c release --build-tests` (make test does)")
            }
            return path
        }
    }

    func startReplica(repository: String, arguments: [String] = []) throws -> Replica {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.clipadBinary)
        process.arguments = ["serve", "--model-repository", repository, "--port", "0", "--max-queue", "256"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "http://127.0.0.1:"), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw XCTSkipFailure("clipad serve printed no address: \(text)")
        }
        return Replica(process: process, port: port)
    }

    /// A port nothing listens on now (bound then released; nginx takes it a moment later).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkipFailure("socket(): errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkipFailure("bind(127.0.0.1:0): errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func testNginxInFrontOfTwoReplicasLosesNoRequestWhenOneIsKilled() async throws {
        let nginx = try ExternalTools.program("nginx")
        let a = try startReplica(repository: fixtures.repository), b = try startReplica(repository: fixtures.repository)
        defer {
            for r in [a, b] where r.process.isRunning { kill(r.process.processIdentifier, SIGKILL) }
        }
        let work = fixtures.folder.appendingPathComponent("nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let port = try Self.freePort()
        var conf = try String(contentsOf: ExternalTools.repositoryRoot.appendingPathComponent("deploy/nginx.conf"), encoding: .utf8)
        conf = conf.replacingOccurrences(of: "127.0.0.1:8001", with: "127.0.0.1:\(a.port)")
            .replacingOccurrences(of: "127.0.0.1:8002", with: "127.0.0.1:\(b.port)")
            .replacingOccurrences(of: "listen 127.0.0.1:8000;", with: "listen 127.0.0.1:\(port);")
            .replacingOccurrences(of: "http {", with: """
                http {
                    access_log off;
                    client_body_temp_path \(work.path)/body; proxy_temp_path \(work.path)/proxy; fastcgi_temp_path \(work.path)/fastcgi;
                    uwsgi_temp_path \(work.path)/uwsgi; scgi_temp_path \(work.path)/scgi;
                """)
        XCTAssertTrue(conf.contains("\(a.port)") && conf.contains("\(b.port)") && conf.contains("listen 127.0.0.1:\(port)"), conf)
        let confPath = work.appendingPathComponent("nginx.conf").path
        try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: nginx)
        proxy.arguments = ["-c", confPath, "-p", work.path, "-g", "daemon off; pid \(work.path)/nginx.pid; error_log \(work.path)/error.log;"]
        proxy.standardOutput = FileHandle.nullDevice
        proxy.standardError = FileHandle.nullDevice
        try proxy.run()
        defer {
            if proxy.isRunning { kill(proxy.processIdentifier, SIGQUIT) }
            proxy.waitUntilExit()
            try? FileManager.default.removeItem(at: work)
        }

        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<100 where !up {
            if let r = try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/v2/health/ready"), timeout: .seconds(2)), r.status == .ok { up = true }
            else { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(up, "nginx did not answer on \(base)")

        let pngs = fixtures.pngs
        let expected = try pngs.map { try self.expected("bottle", $0).score }
        let bodies = try pngs.map { try JSONSerialization.data(withJSONObject: Self.inferRequest([$0], outputs: ["score"])) }
        let total = 80, clients = 8
        final class Progress: @unchecked Sendable { var done = 0; let lock = NSLock() }  // guarded by `lock`
        let progress = Progress()
        let killed = Task {
            while progress.lock.withLock({ progress.done }) < total / 4 { try await Task.sleep(nanoseconds: 5_000_000) }
            kill(a.process.processIdentifier, SIGKILL)
        }
        var failures: [String] = []
        try await withThrowingTaskGroup(of: [String].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var problems: [String] = []
                    for i in stride(from: client, to: total, by: clients) {
                        var request = HTTPClientRequest(url: base + "/v2/models/bottle/infer")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(bytes: bodies[i % 2]))
                        do {
                            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                            let body = try await response.body.collect(upTo: 1 << 20)
                            let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                            let score = ((json?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])?.first.map(Float.init)
                            if response.status != .ok { problems.append("request \(i): HTTP \(response.status.code)") }
                            // A replica batches concurrent requests: float sums in another order, so not bit-exact.
                            else if score.map({ abs($0 - expected[i % 2]) > 1e-5 * max(1, abs(expected[i % 2])) }) ?? true { problems.append("request \(i): score \(String(describing: score)), expected \(expected[i % 2])") }
                        } catch {
                            problems.append("request \(i): \(error)")
                        }
                        progress.lock.withLock { progress.done += 1 }
                    }
                    return problems
                }
            }
            for try await problems in group { failures += problems }
        }
        try await killed.value
        a.process.waitUntilExit()
        XCTAssertEqual(a.process.terminationReason, .uncaughtSignal, "replica A was killed mid-run")
        XCTAssertEqual(progress.done, total)
        XCTAssertEqual(failures, [], "every request must succeed through nginx with one replica killed")
        XCTAssertTrue(b.process.isRunning)
    }
}
