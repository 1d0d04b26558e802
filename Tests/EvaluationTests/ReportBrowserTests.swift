import Foundation
import ImageIO
import XCTest
@testable import Evaluation

/// report.html rendered by a real browser (Debian's headless Chromium; `make test` installs it with
/// scripts/setup-browser): the page runs without errors and its curves, histogram, tables and gallery are in the
/// DOM; the screenshot is kept in the test's output folder. Without Chromium this test fails, it never skips.
final class ReportBrowserTests: XCTestCase {
    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs Chromium headless on `arguments`; stdout and stderr, failing the test on a timeout.
    func runChromium(_ chrome: String, _ arguments: [String], timeout: TimeInterval = 90) throws -> (out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chrome)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0"] + arguments
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        process.arguments! += ["--user-data-dir=\(dir.path)/profile"]
        let outFile = dir.appendingPathComponent("out"), errFile = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            XCTFail("chromium ran past \(Int(timeout)) s: \(arguments)")
        }
        process.waitUntilExit()
        return (try String(contentsOf: outFile, encoding: .utf8), (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }

    func testReportRendersInHeadlessChromium() throws {
        guard let chrome = Self.chromium() else {
            XCTFail("no chromium on PATH: run scripts/setup-browser (make test does) — the report browser test needs it")
            return
        }
        // Kept after the test: the screenshot is the evidence a person looks at.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-report-browser-\(UUID().uuidString)").path
        let root = FileTree.join(dir, "parts"), out = FileTree.join(dir, "report")
        try ReportTests.writeFolderDataset(root, size: 48)
        try FileManager.default.removeItem(atPath: FileTree.join(root, "normal", "99.png"))
        let samples = try DatasetLayout.folder.reader(root: root).samples(split: .test)
        let evaluation = DatasetEvaluation(output: out)
        // An imperfect detector: the map is the red channel, the score its maximum.
        _ = try evaluation.run(samples: samples, method: "red-channel", settings: [("k", "v")], predict: { sample in
            let image = try ImageDecoder.decodeRGB(path: sample.imagePath)
            let small = PillowResize.resize(image, width: 16, height: 16)
            let map = (0..<256).map { Float(small.pixels[3 * $0]) / 255 }
            return MapPrediction(map: map, width: 16, height: 16, score: map.max() ?? 0, imageSize: (image.width, image.height))
        }, overlayImage: { sample, w, h in
            PillowResize.resize(try ImageDecoder.decodeRGB(path: sample.imagePath), width: w, height: h)
        })
        let page = URL(fileURLWithPath: FileTree.join(out, "report.html")).absoluteString

        let start = Date()
        let (dom, log) = try runChromium(chrome, ["--dump-dom", page])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertTrue(dom.contains("data-ready=\"1\""), "the page's script did not finish: \(log.suffix(2000))")
        XCTAssertTrue(dom.contains("<div id=\"errors\"></div>"), "page errors: \(dom.components(separatedBy: "<div id=\"errors\">").dropFirst().first?.prefix(500) ?? "")")
        for bad in ["Uncaught", "SyntaxError", "ERR_FILE_NOT_FOUND"] {
            XCTAssertFalse(log.contains(bad), "chromium console: \(log.split(separator: "\n").filter { $0.contains(bad) })")
        }
        for element in ["<svg class=\"chart roc image\"", "<svg class=\"chart pr image\"", "<svg class=\"chart roc pixel\"",
                        "<svg class=\"chart pr pixel\"", "<svg class=\"chart histogram\"", "<table class=\"metrics\"",
                        "<table class=\"defect-types\"", "<div class=\"gallery\"", "class=\"operating-point\""] {
            XCTAssertTrue(dom.contains(element), "missing in the rendered DOM: \(element)")
        }
        XCTAssertEqual(dom.components(separatedBy: "<figure class=\"item").count - 1, 6)
        // The script ran: the count line is filled in and the gallery is sorted by score, highest first.
        XCTAssertTrue(dom.contains("6 of 6 images shown"))
        let scores = dom.components(separatedBy: "data-score=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(scores, scores.sorted(by: >))
        XCTAssertLessThan(seconds, 60)

        let shot = FileTree.join(dir, "report.png")
        _ = try runChromium(chrome, ["--window-size=1300,1600", "--screenshot=\(shot)", page])
        let png = try ImageDecoder.decodeRGB(path: shot)
        XCTAssertEqual(png.width, 1300)
        // Not a blank page: many distinct colours (charts, thumbnails).
        XCTAssertGreaterThan(Set(stride(from: 0, to: png.pixels.count, by: 3 * 97).map { Int(png.pixels[$0]) << 16 | Int(png.pixels[$0 + 1]) << 8 | Int(png.pixels[$0 + 2]) }).count, 20)
        print("report screenshot kept at \(shot) (dump-dom took \(String(format: "%.2f", seconds)) s)")
    }
}
