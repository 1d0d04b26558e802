import Foundation
import XCTest
@testable import Evaluation

/// The few-shot protocol's aggregate: mean and SAMPLE standard deviation over seeds, per class and overall, and
/// its metrics.json / metrics.csv / table / report.html.
final class SeedSummaryTests: XCTestCase {
    /// Two classes over three seeds; "screw" has no pixel metrics in seed 2 (undefined there).
    func summary() -> SeedSummary {
        func report(_ a: Double, _ b: Double, screwPixel: Double?) -> EvaluationReport {
            EvaluationReport(method: "winclip", settings: [("clip", "/m/c.pt")], classes: [
                ClassResult(name: "bottle", images: 10, anomalous: 4, metrics: ClassMetrics(imageAUROC: a, pixelAUROC: 0.5)),
                ClassResult(name: "screw", images: 6, anomalous: 2, metrics: ClassMetrics(imageAUROC: b, pixelAUROC: screwPixel)),
            ])
        }
        return SeedSummary(method: "winclip", settings: [("shot_count", "4")], runs: [
            .init(seed: 0, report: report(0.8, 0.5, screwPixel: 0.25), folder: "seed-0", shots: ["bottle": ["/d/a.png"], "screw": ["/d/s1.png"]]),
            .init(seed: 1, report: report(0.9, 0.75, screwPixel: 0.75), folder: "seed-1", shots: ["bottle": ["/d/b.png"], "screw": ["/d/s2.png"]]),
            .init(seed: 2, report: report(1.0, 1.0, screwPixel: nil), folder: "seed-2", shots: ["bottle": ["/d/c.png"], "screw": ["/d/s3.png"]]),
        ])
    }

    func stat(_ s: [(key: String, value: SeedSummary.Statistic)], _ key: String) -> SeedSummary.Statistic {
        s.first { $0.key == key }!.value
    }

    func testSampleStandardDeviationPerClassAndOverall() {
        let s = summary()
        let bottle = stat(s.statistics(forClass: "bottle"), "image_auroc")
        XCTAssertEqual(bottle.mean!, 0.9, accuracy: 1e-12)
        XCTAssertEqual(bottle.std!, 0.1, accuracy: 1e-12, "sample std of 0.8, 0.9, 1.0 (divisor n - 1)")
        XCTAssertEqual(bottle.count, 3)
        // Undefined in one seed: statistics over the two seeds that have it.
        let screwPixel = stat(s.statistics(forClass: "screw"), "pixel_auroc")
        XCTAssertEqual(screwPixel.count, 2)
        XCTAssertEqual(screwPixel.mean!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(screwPixel.std!, (0.125).squareRoot(), accuracy: 1e-12)
        // Overall: per seed the mean over classes (0.65, 0.825, 1.0), then mean and sample std of those.
        let overall = stat(s.overall, "image_auroc")
        let perSeed = [0.65, 0.825, 1.0], m = perSeed.reduce(0, +) / 3
        XCTAssertEqual(overall.mean!, m, accuracy: 1e-12)
        XCTAssertEqual(overall.std!, (perSeed.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 2).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(stat(s.overall, "pixel_aupro").mean, "no seed has it")
    }

    func testOneSeedHasNoDeviation() {
        let one = SeedSummary.Statistic([0.7])
        XCTAssertEqual(one.mean, 0.7)
        XCTAssertNil(one.std)
        XCTAssertEqual(SeedSummary.cell(one), "70.0")
        XCTAssertEqual(SeedSummary.cell(SeedSummary.Statistic([0.8, 0.9, 1.0])), "90.0 ± 10.0")
    }

    func testJSONRecordsStatisticsSeedsAndShots() throws {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(summary().jsonText().utf8)) as? [String: Any])
        XCTAssertEqual(object["seeds"] as? [Int], [0, 1, 2])
        XCTAssertTrue((object["protocol"] as? String ?? "").contains("n - 1"))
        let classes = try XCTUnwrap(object["classes"] as? [String: [String: Any]])
        let auroc = try XCTUnwrap(classes["bottle"]?["image_auroc"] as? [String: Any])
        XCTAssertEqual(auroc["mean"] as! Double, 0.9, accuracy: 1e-12)
        XCTAssertEqual(auroc["std"] as! Double, 0.1, accuracy: 1e-12)
        XCTAssertEqual(auroc["n"] as? Int, 3)
        XCTAssertTrue(classes["bottle"]?["pixel_aupro"].map { ($0 as? [String: Any])?["mean"] is NSNull } ?? false)
        let runs = try XCTUnwrap(object["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 3)
        XCTAssertEqual(runs[1]["report"] as? String, "seed-1/metrics.json")
        XCTAssertEqual((runs[2]["shots"] as? [String: [String]])?["screw"], ["/d/s3.png"])
    }

    func testCSVHasMeanAndStdColumns() {
        let lines = summary().csvText().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        let header = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(6)), ["class", "images", "anomalous", "seeds", "image_auroc_mean", "image_auroc_std"])
        XCTAssertEqual(lines[1].split(separator: ",", omittingEmptySubsequences: false).prefix(6).joined(separator: ","),
                       "bottle,10,4,3,0.900000,0.100000")
        XCTAssertTrue(lines[3].hasPrefix("mean,16,6,3,"))
    }

    func testTableAndHTML() throws {
        let s = summary()
        let table = s.tableText()
        XCTAssertTrue(table.contains("90.0 ± 10.0"), table)
        XCTAssertTrue(table.contains("n - 1"), table)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-seeds-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try s.write(to: dir)
        let page = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        for seed in 0..<3 { XCTAssertTrue(page.contains("href=\"seed-\(seed)/report.html\""), "links seed \(seed)") }
        XCTAssertTrue(page.contains("/d/s2.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/metrics.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/metrics.csv"))
    }
}
