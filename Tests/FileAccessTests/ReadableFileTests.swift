import FileAccess
import Foundation
import XCTest

/// Files a user may name by mistake or on purpose: each is refused at once with its real reason.
final class ReadableFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func reason(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do { try body() } catch let error as FileAccessError { return error.reason } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return ""
        }
        XCTFail("no error", file: file, line: line)
        return ""
    }

    func testRegularFileIsReadWhole() throws {
        let bytes = Data((0..<70_000).map { UInt8($0 % 251) })
        try bytes.write(to: URL(fileURLWithPath: path("a.bin")))
        XCTAssertEqual(try ReadableFile.read(path("a.bin")), bytes)
        try Data().write(to: URL(fileURLWithPath: path("empty")))
        XCTAssertEqual(try ReadableFile.read(path("empty")), Data())
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(path("pipe.png"), 0o600), 0)
        let start = Date()
        XCTAssertEqual(reason { _ = try ReadableFile.read(path("pipe.png")) }, "is a FIFO (named pipe), not a regular file")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "open must not wait for a writer")
    }

    func testDeviceThroughASymlinkIsRefused() throws {
        try FileManager.default.createSymbolicLink(atPath: path("zero.png"), withDestinationPath: "/dev/zero")
        XCTAssertEqual(reason { _ = try ReadableFile.read(path("zero.png")) }, "is a character device, not a regular file")
    }

    func testSymlinkLoopIsNamedAsSuch() throws {
        try FileManager.default.createSymbolicLink(atPath: path("a"), withDestinationPath: path("b"))
        try FileManager.default.createSymbolicLink(atPath: path("b"), withDestinationPath: path("a"))
        XCTAssertTrue(reason { try ReadableFile.check(path("a")) }.hasPrefix("too many levels of symbolic links"))
    }

    func testMissingAndDirectory() throws {
        XCTAssertEqual(reason { try ReadableFile.check(path("nothing")) }, "does not exist")
        XCTAssertEqual(reason { try ReadableFile.check(folder.path) }, "is a directory, not a regular file")
        try Data([1]).write(to: URL(fileURLWithPath: path("f")))
        XCTAssertEqual(reason { try ReadableFile.check(path("f") + "/x") }, "a component of the path is not a directory")
    }

    func testSizeLimitIsCheckedBeforeReading() throws {
        try Data(count: 1000).write(to: URL(fileURLWithPath: path("big")))
        XCTAssertEqual(reason { _ = try ReadableFile.read(path("big"), limit: 999) },
                       "is 1000 bytes, more than the 999-byte limit for this kind of file")
    }
}
