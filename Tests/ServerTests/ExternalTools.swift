import Foundation
import XCTest

/// The programs server tests drive from outside (tritonclient, schemathesis, Chromium): where they are, and running
/// one to its end. `make test` installs them (scripts/setup-test-venv, scripts/setup-server-tools); a missing one
/// FAILS the test that needs it, with the command that installs it.
enum ExternalTools {
    /// The repository's root (for tools/serve-client scripts and the artefacts folder).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var venv: String {
        ProcessInfo.processInfo.environment["CLIPAD_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/clipad-venv").path
    }

    /// An executable of the test venv (`bin/NAME`), or a failure naming the set-up script.
    static func venvExecutable(_ name: String) throws -> String {
        let path = venv + "/bin/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkipFailure("no \(path): run scripts/setup-test-venv (make test does)")
        }
        return path
    }

    /// A program on PATH (or /usr/sbin, /usr/bin), or a failure naming the set-up script.
    static func program(_ name: String) throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        throw XCTSkipFailure("no \(name) on PATH: run scripts/setup-server-tools (make test does)")
    }

    /// Folder for what a test leaves for a person to look at (screenshots): .build/test-artifacts.
    static var artifacts: URL {
        let url = repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `executable` to its end (killed after `timeout` seconds); exit status and stdout + stderr.
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // In a scratch folder: tools that leave caches in their working directory (schemathesis) stay out of the repo.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        process.currentDirectoryURL = scratch
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        // Read while it runs (a full pipe would block the child).
        final class Collected: @unchecked Sendable { var data = Data(); let lock = NSLock() }  // guarded by `lock`
        let collected = Collected()
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            collected.lock.withLock { collected.data.append(chunk) }
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error); return }
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { kill(pid, SIGKILL) } }
        }
        output.fileHandleForReading.readabilityHandler = nil
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        let text = collected.lock.withLock { String(decoding: collected.data + rest, as: UTF8.self) }
        return (status, text)
    }
}

/// A missing tool is a failure, not a skip: thrown from a test, XCTest records it as an error.
struct XCTSkipFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
