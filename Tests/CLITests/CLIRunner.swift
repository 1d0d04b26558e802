import Foundation
import XCTest

/// Runs the built `clipad` binary as a user would (a subprocess), capturing its exit status and output.
struct CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary beside the test bundle (`swift build --build-tests` puts both in .build/<config>/).
    static let binary: URL? = {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        for folder in candidates {
            let url = folder.appendingPathComponent("clipad")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// A run that did not end within its time limit (it was killed): a hang is a failure, never a wait forever.
    struct Timeout: Error, CustomStringConvertible {
        let arguments: [String]
        let seconds: Double
        var description: String { "clipad \(arguments.joined(separator: " ")) still running after \(seconds) s (killed)" }
    }

    static func run(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:],
                    timeout: Double = 600) throws -> Result {
        guard let binary else { throw XCTSkip("the clipad binary is not built beside the tests (run `make test`)") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        final class Flag: @unchecked Sendable { var value = false }   // set by the watchdog, read after wait()
        let killed = Flag()
        let watchdog = DispatchWorkItem {
            killed.value = true
            kill(process.processIdentifier, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        // Read both pipes while the process runs so a full pipe never blocks it.
        final class Box: @unchecked Sendable { var data = Data() }   // written by one thread, read after wait()
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.data
        process.waitUntilExit()
        watchdog.cancel()
        if killed.value { throw Timeout(arguments: arguments, seconds: timeout) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
