import Foundation
import XCTest
@testable import Checkpoint

/// Paths of the committed fixtures and their expected values (written by tools/fixtures/make_checkpoint_fixtures.py).
enum Fixtures {
    static func path(_ name: String) throws -> String {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
                                "missing fixture \(name)")
        return url.path
    }

    struct ExpectedTensor { let shape: [Int]; let values: [Float] }
    struct ExpectedFile { let tensors: [String: ExpectedTensor]; let metadata: [String: String]? }

    /// expected.json: per fixture, every tensor's shape and values (as Float32, converted by torch).
    static func expected() throws -> [String: ExpectedFile] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try path("expected.json")))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var result: [String: ExpectedFile] = [:]
        for (file, value) in json {
            let entry = try XCTUnwrap(value as? [String: Any])
            let tensors = try XCTUnwrap(entry["tensors"] as? [String: Any])
            var parsed: [String: ExpectedTensor] = [:]
            for (name, t) in tensors {
                let info = try XCTUnwrap(t as? [String: Any])
                let shape = try XCTUnwrap(info["shape"] as? [Int])
                let values = try XCTUnwrap(info["values"] as? [Any]).map { item -> Float in
                    if let n = item as? NSNumber { return Float(n.doubleValue) }
                    switch item as? String {  // non-finite values are written as strings
                    case "inf": return .infinity
                    case "-inf": return -.infinity
                    default: return .nan
                    }
                }
                parsed[name] = ExpectedTensor(shape: shape, values: values)
            }
            result[file] = ExpectedFile(tensors: parsed, metadata: entry["metadata"] as? [String: String])
        }
        return result
    }

    /// Bitwise equality that treats all NaNs as equal and keeps the sign of zero.
    static func sameFloat(_ a: Float, _ b: Float) -> Bool {
        (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
    }

    /// A scratch directory removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Asserts `body` throws a `CheckpointError` whose description starts with `fileName`; returns it.
@discardableResult
func assertCheckpointError<T>(_ fileName: String, _ body: () throws -> T, file: StaticString = #filePath,
                              line: UInt = #line) -> CheckpointError? {
    do {
        _ = try body()
        XCTFail("expected a CheckpointError for \(fileName)", file: file, line: line)
    } catch let error as CheckpointError {
        XCTAssertTrue(error.description.hasPrefix(fileName + ": "), "message '\(error)' does not start with \(fileName)",
                      file: file, line: line)
        return error
    } catch {
        XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
    }
    return nil
}
