import Checkpoint
import CLIP
import Foundation
import ImageIO
import XCTest

/// Paths that are not plain files or folders (a FIFO, a device behind a symlink, a symlink loop, a folder whose
/// links lead back into itself, a pseudo-filesystem): one line saying what the path is, promptly, never a hang.
final class SpecialInputTests: XCTestCase {
    static var folder: URL!
    static var clip: String!

    override class func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-special-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        clip = folder.appendingPathComponent("clip.safetensors").path
        try! SafetensorsWriter.write(CLIPModel.randomWeights(try! CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    func path(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func predict(_ inputs: [String], clip: String = SpecialInputTests.clip) throws -> CLIRunner.Result {
        try CLIRunner.run(["predict", "--method", "winclip", "--clip", clip, "--output", path("out-\(UUID().uuidString)")] + inputs,
                          timeout: 60)
    }

    func testFIFOImageIsNamedAsOne() throws {
        XCTAssertEqual(mkfifo(path("pipe.png"), 0o600), 0)
        let r = try predict([path("pipe.png")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("\(path("pipe.png")): cannot read image: is a FIFO (named pipe), not a regular file"), r.stderr)
    }

    func testDeviceBehindASymlinkIsNamedAsOne() throws {
        try FileManager.default.createSymbolicLink(atPath: path("zero.png"), withDestinationPath: "/dev/zero")
        let r = try predict([path("zero.png")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot read image: is a character device, not a regular file"), r.stderr)
    }

    func testSymlinkLoopIsNotCalledMissing() throws {
        try FileManager.default.createSymbolicLink(atPath: path("loop1"), withDestinationPath: path("loop2"))
        try FileManager.default.createSymbolicLink(atPath: path("loop2"), withDestinationPath: path("loop1"))
        let r = try predict([path("loop1")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(path("loop1")): too many levels of symbolic links"), r.stderr)
        XCTAssertFalse(r.stderr.contains("does not exist"), r.stderr)
    }

    func testFIFOCheckpointDoesNotBlock() throws {
        XCTAssertEqual(mkfifo(path("clip.fifo"), 0o600), 0)
        try ImageEncoder.write(Image(width: 32, height: 32, channels: 3, repeating: 90), to: path("one.png"))
        let r = try predict([path("one.png")], clip: path("clip.fifo"))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is a FIFO (named pipe), not a regular file"), r.stderr)
    }

    func testFIFOTextFilesDoNotBlock() throws {
        XCTAssertEqual(mkfifo(path("key.fifo"), 0o600), 0)
        let serve = try CLIRunner.run(["serve", "--model-repository", Self.folder.path, "--api-key-file", path("key.fifo")], timeout: 60)
        XCTAssertNotEqual(serve.status, 0)
        XCTAssertTrue(serve.stderr.contains("\(path("key.fifo")): cannot read the file: is a FIFO (named pipe), not a regular file"), serve.stderr)
        try ImageEncoder.write(Image(width: 32, height: 32, channels: 3, repeating: 90), to: path("shot.png"))
        let fit = try CLIRunner.run(["fit", "--method", "promptad", "--clip", Self.clip, "--class-name", "part", "--shots", path("shot.png"),
                                     "--phrases-file", path("key.fifo"), "--output", path("m.safetensors")], timeout: 60)
        XCTAssertNotEqual(fit.status, 0)
        XCTAssertTrue(fit.stderr.contains("\(path("key.fifo")): cannot read the phrases file (UTF-8 text, one phrase per line): is a FIFO (named pipe), not a regular file"), fit.stderr)
    }

    func testFolderWhoseLinksLeadBackIsWalkedOnce() throws {
        let root = path("parts")
        try FileManager.default.createDirectory(atPath: root + "/inner", withIntermediateDirectories: true)
        try ImageEncoder.write(Image(width: 32, height: 32, channels: 3, repeating: 90), to: root + "/inner/a.png")
        try FileManager.default.createSymbolicLink(atPath: root + "/inner/back", withDestinationPath: root)
        let r = try predict([root])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue((r.stdout + r.stderr).contains("wrote 1 result(s)"), r.stdout + r.stderr)
    }

    func testPseudoFilesystemFolderEndsWithOneLine() throws {
        // /proc/self leads (through root/, cwd/) to the whole file system: bounded, then refused.
        let r = try predict(["/proc/self"])
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("Error") || $0.contains("error") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/proc/self"), r.stderr)
    }
}
