import Foundation
import XCTest

/// Every option the README names exists in some command's `--help` (the option lists had drifted).
final class READMEOptionsTests: XCTestCase {
    static let commands = [["tokenize"], ["embed"], ["predict"], ["eval"], ["calibrate"], ["metrics"], ["train"], ["fit"],
                           ["export"], ["demo"], ["bench", "encoder"], ["bench", "anomalyclip"], ["bench", "promptad"],
                           ["bench", "eval"], ["bench", "metrics"], ["bench", "sgemm"], ["serve"]]

    func testEveryOptionInTheREADMEIsInHelp() throws {
        var readme = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { readme.deleteLastPathComponent() }
        let text = try String(contentsOf: readme.appendingPathComponent("README.md"), encoding: .utf8)
        var help = try CLIRunner.run(["--help"]).stdout
        for command in Self.commands {
            let r = try CLIRunner.run(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command) --help: \(r.stderr)")
            help += r.stdout
        }
        let pattern = try NSRegularExpression(pattern: "(?<![\\w-])--[a-z][a-z0-9-]*[a-z0-9]")
        let named = Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range, in: text)!]) })
        // Options of other tools the README quotes (swift, make, Python scripts), not ClipAD's.
        let foreign: Set<String> = ["--disable-swift-testing", "--official", "--vs", "--product", "--build-tests", "--skip-build", "--data-binary"]
        XCTAssertGreaterThan(named.count, 20)
        for option in named.subtracting(foreign).sorted() {
            XCTAssertTrue(help.contains(option + " ") || help.contains(option + "\n") || help.contains(option + ","),
                          "the README names \(option), which no --help lists")
        }
    }
}
