import Checkpoint
import Foundation
import XCTest

/// Output paths are checked before anything is written, with a message in words (not a system error dump).
final class OutputPathTests: XCTestCase {
    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func reason(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testFileOutputsThatCannotBeFiles() throws {
        let dir = try folder()
        XCTAssertEqual(reason { try OutputPath.checkFile(dir) }, "\(dir): is a folder; give a file name for this output")
        XCTAssertEqual(reason { try OutputPath.checkFile("/dev/null") },
                       "/dev/null: exists and is not a regular file (a device, FIFO or socket); choose a file path")
        XCTAssertEqual(reason { try OutputPath.checkFile("\(dir)/missing/out.json") },
                       "\(dir)/missing/out.json: its folder \(dir)/missing does not exist")
        let loop = "\(dir)/loop"
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        XCTAssertEqual(reason { try OutputPath.checkFile(loop) },
                       "\(loop): is a symbolic link to nothing (or a link loop); refusing to write through it")
        // Through the atomic writer: the same reason after the file's name, and nothing left behind.
        XCTAssertEqual(reason { try AtomicFileWriter.write(Data("x".utf8), to: "/dev/null") },
                       "null: exists and is not a regular file (a device, FIFO or socket); choose a file path")
        XCTAssertEqual(reason { try AtomicFileWriter.write(Data("x".utf8), to: loop) },
                       "loop: is a symbolic link to nothing (or a link loop); refusing to write through it")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["loop"], "no temp file left behind")
    }

    func testFolderOutputThatIsAFile() throws {
        let file = try folder() + "/scores"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(reason { try OutputPath.prepareFolder(file) }, "\(file): exists and is not a folder; choose an output folder")
        XCTAssertEqual(reason { try OutputPath.prepareFolder(file + "/sub") }, "\(file)/sub: cannot create the folder")
    }

    func testTempFilesAreTrackedUntilCommitted() throws {
        let path = try folder() + "/model.safetensors"
        let writer = try AtomicFileWriter(path: path)
        XCTAssertEqual(TempFiles.current.filter { $0.contains(".model.safetensors.tmp-") }.count, 1)
        try writer.write([1, 2, 3])
        try writer.commit()
        _ = writer
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }
}
