import Foundation
import XCTest
@testable import Evaluation

/// `eval --shard I/N`: a deterministic partition of each class's test list, and the checks `metrics` runs on merge.
final class DatasetShardTests: XCTestCase {
    func samples(_ n: Int, _ cls: String) -> [DatasetSample] {
        (0..<n).map { DatasetSample(imagePath: "/d/\(cls)/\(String(format: "%03d", $0)).png", maskPath: nil, label: $0 % 3 == 0,
                                    defectType: $0 % 3 == 0 ? "crack" : "good", className: cls) }
    }

    func testShardsPartitionEveryClassRoundRobin() throws {
        let all = ["a": samples(10, "a"), "b": samples(2, "b")]
        var seen: [String] = []
        for i in 0..<3 {
            let part = try DatasetShard(index: i, count: 3).select(all)
            let a = part["a"] ?? []
            XCTAssertTrue((3...4).contains(a.count), "shard \(i) of class a: \(a.count) images")
            XCTAssertEqual(a.map(\.imagePath), stride(from: i, to: 10, by: 3).map { all["a"]![$0].imagePath })
            seen += part.values.flatMap { $0.map(\.imagePath) }
        }
        XCTAssertEqual(seen.sorted(), all.values.flatMap { $0.map(\.imagePath) }.sorted(), "every image in exactly one shard")
        XCTAssertNil(try DatasetShard(index: 2, count: 3).select(all)["b"], "a class with no image in the shard is left out")
        XCTAssertEqual(try DatasetShard(index: 0, count: 1).select(all), all)
    }

    func testParsing() throws {
        XCTAssertEqual(try DatasetShard(parsing: "2/5"), try DatasetShard(index: 2, count: 5))
        for bad in ["5/5", "-1/3", "1/0", "1", "a/3", "1/3/4", ""] {
            XCTAssertThrowsError(try DatasetShard(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--shard"), "\(error)")
            }
        }
    }

    func testCompleteSetCheck() throws {
        func s(_ i: Int, _ n: Int) throws -> DatasetShard { try DatasetShard(index: i, count: n) }
        XCTAssertNoThrow(try DatasetShard.checkComplete([("x", try s(1, 2)), ("y", try s(0, 2))]))
        XCTAssertThrowsError(try DatasetShard.checkComplete([("x", try s(0, 3)), ("y", try s(1, 3))])) {
            XCTAssertTrue("\($0)".contains("2/3 missing"), "\($0)")
        }
        XCTAssertThrowsError(try DatasetShard.checkComplete([("x", try s(0, 2)), ("y", try s(0, 2))])) {
            XCTAssertTrue("\($0)".contains("y and x are both shard 0/2"), "\($0)")
        }
        XCTAssertThrowsError(try DatasetShard.checkComplete([("x", try s(0, 2)), ("y", try s(1, 3))])) {
            XCTAssertTrue("\($0)".contains("does not belong"), "\($0)")
        }
    }

    func testShardFileRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-shard-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertNil(try DatasetShard.read(directory: dir))
        try DatasetShard(index: 1, count: 4).write(to: dir, images: 7)
        XCTAssertEqual(try DatasetShard.read(directory: dir), try DatasetShard(index: 1, count: 4))
    }

    func testMergedPredictionsRefuseAnImageInTwoFolders() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-merge-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: base) }
        for (dir, images) in [("p0", ["/d/a.png", "/d/b.png"]), ("p1", ["/d/c.png"]), ("p2", ["/d/b.png"])] {
            let w = try PredictionWriter(directory: base + "/" + dir, mapFormat: .none)
            for (i, image) in images.enumerated() { try w.append(image: image, score: Float(i)) }
            try w.finish()
        }
        let merged = try PredictionSet(directories: [base + "/p0", base + "/p1"])
        XCTAssertEqual(merged.entries.map(\.image), ["/d/a.png", "/d/b.png", "/d/c.png"])
        XCTAssertEqual(try merged.entry(for: "/d/c.png").score, 0)
        XCTAssertThrowsError(try PredictionSet(directories: [base + "/p0", base + "/p1", base + "/p2"])) { error in
            XCTAssertTrue("\(error)".contains("/d/b.png has a prediction in both \(base)/p0 and \(base)/p2"), "\(error)")
        }
    }
}
