import Foundation
import XCTest

@testable import Evaluation

/// Dataset readers on small synthetic trees (empty files stand in for images) and on the shared
/// Magnetic-Tile data when present.
final class DatasetLayoutTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "clipad-datasets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func touch(_ paths: String...) throws {
        for p in paths {
            let full = root + "/" + p
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: full, contents: Data()), "could not create \(full)")
        }
    }

    func write(_ path: String, _ text: String) throws {
        try touch(path)
        try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + path))
    }

    // MARK: - MVTec family

    func testMVTecAD() throws {
        try touch("bottle/train/good/001.png", "bottle/train/good/000.png",
                  "bottle/test/good/000.png", "bottle/test/crack/001.png", "bottle/test/crack/000.png",
                  "bottle/ground_truth/crack/000_mask.png", "bottle/ground_truth/crack/001_mask.png",
                  "bottle/license.txt", "cable/test/good/000.png", "cable/train/good/000.png")
        let ds = MVTecADDataset(root: root)
        let test = try ds.samples(split: .test, classes: ["bottle"])
        XCTAssertEqual(Array(test.keys), ["bottle"])
        let bottle = try XCTUnwrap(test["bottle"])
        XCTAssertEqual(bottle.map(\.imagePath), ["crack/000", "crack/001", "good/000"].map { "\(root)/bottle/test/\($0).png" })
        XCTAssertEqual(bottle[0].maskPath, "\(root)/bottle/ground_truth/crack/000_mask.png")
        XCTAssertEqual(bottle.map(\.label), [true, true, false])
        XCTAssertEqual(bottle.map(\.defectType), ["crack", "crack", "good"])
        XCTAssertNil(bottle[2].maskPath)
        let train = try ds.samples(split: .train)
        XCTAssertEqual(train.keys.sorted(), ["bottle", "cable"])
        XCTAssertEqual(train["bottle"]?.map { FileTree.lastComponent($0.imagePath) }, ["000.png", "001.png"])
        XCTAssertThrowsError(try ds.samples(split: .test, classes: ["screw"])) {
            XCTAssertEqual($0 as? DatasetError, .missingClass(name: "screw", root: root, known: ["bottle", "cable"]))
            XCTAssertTrue("\($0)".hasSuffix("no class 'screw' in this dataset (classes: bottle, cable)"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: root + "/bottle/ground_truth/crack/001_mask.png")
        XCTAssertThrowsError(try ds.samples(split: .test, classes: ["bottle"])) {
            XCTAssertTrue("\($0)".contains("001_mask.png"), "\($0)")
        }
        XCTAssertThrowsError(try MVTecADDataset(root: root + "/nope").samples(split: .test)) {
            XCTAssertEqual($0 as? DatasetError, .missingRoot(root + "/nope"))
        }
    }

    func testMVTecLOCOMergesMaskFolders() throws {
        try touch("juice/train/good/000.png", "juice/test/good/000.png", "juice/test/logical_anomalies/000.png",
                  "juice/ground_truth/logical_anomalies/000/000.png", "juice/ground_truth/logical_anomalies/000/001.png")
        let s = try XCTUnwrap(MVTecLOCODataset(root: root).samples(split: .test)["juice"])
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.map(\.defectType), ["good", "logical_anomalies"])
        XCTAssertEqual(s[1].maskPath, "\(root)/juice/ground_truth/logical_anomalies/000")
        let decode: MaskDecoder = { path in
            path.hasSuffix("000.png") ? GrayMask(width: 2, height: 2, pixels: [255, 0, 0, 0])
                : GrayMask(width: 2, height: 2, pixels: [0, 0, 0, 255])
        }
        XCTAssertEqual(try s[1].loadMask(decode: decode)?.pixels, [255, 0, 0, 255])
        XCTAssertNil(try s[0].loadMask(decode: decode))
        let bad: MaskDecoder = { path in
            path.hasSuffix("000.png") ? GrayMask(width: 2, height: 2, pixels: [0, 0, 0, 0])
                : GrayMask(width: 1, height: 2, pixels: [0, 0])
        }
        XCTAssertThrowsError(try s[1].loadMask(decode: bad)) { XCTAssertTrue("\($0)".contains("001.png"), "\($0)") }
    }

    func testMVTec3DRGB() throws {
        try touch("bagel/train/good/rgb/000.png", "bagel/test/good/rgb/000.png", "bagel/test/crack/rgb/000.png",
                  "bagel/test/crack/gt/000.png", "bagel/test/crack/xyz/000.tiff")
        let s = try XCTUnwrap(MVTec3DDataset(root: root).samples(split: .test)["bagel"])
        XCTAssertEqual(s.map(\.imagePath), ["\(root)/bagel/test/crack/rgb/000.png", "\(root)/bagel/test/good/rgb/000.png"])
        XCTAssertEqual(s[0].maskPath, "\(root)/bagel/test/crack/gt/000.png")
        XCTAssertEqual(try MVTec3DDataset(root: root).samples(split: .train)["bagel"]?.count, 1)
    }

    // MARK: - Lists

    func testVisA() throws {
        try touch("candle/Data/Images/Normal/0001.JPG", "candle/Data/Images/Anomaly/0000.JPG",
                  "candle/Data/Masks/Anomaly/0000.png", "pcb1/Data/Images/Normal/0000.JPG")
        try write("split_csv/1cls.csv", """
            object,split,label,image,mask
            candle,train,normal,candle/Data/Images/Normal/0001.JPG,
            candle,test,anomaly,candle/Data/Images/Anomaly/0000.JPG,candle/Data/Masks/Anomaly/0000.png
            candle,test,normal,candle/Data/Images/Normal/0001.JPG,
            pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,

            """)
        let test = try VisADataset(root: root).samples(split: .test, classes: ["candle"])
        let c = try XCTUnwrap(test["candle"])
        XCTAssertEqual(c.map(\.label), [true, false])
        XCTAssertEqual(c[0].maskPath, "\(root)/candle/Data/Masks/Anomaly/0000.png")
        XCTAssertThrowsError(try VisADataset(root: root).samples(split: .test)) {
            XCTAssertEqual($0 as? DatasetError, .emptySplit(split: "test", path: "\(root)/split_csv/1cls.csv (object pcb1)"))
        }
        XCTAssertEqual(try VisADataset(root: root).samples(split: .train).keys.sorted(), ["candle", "pcb1"])
    }

    func testCSVAndJSONLLists() throws {
        try touch("imgs/a.png", "imgs/b.png", "masks/b.png")
        try write("parts.csv", "image,label,mask\nimgs/b.png,1,masks/b.png\n\"imgs/a.png\",normal,\n")
        let csv = try XCTUnwrap(ListDataset(path: root + "/parts.csv").samples(split: .test)["parts"])
        XCTAssertEqual(csv.map(\.imagePath), ["\(root)/imgs/a.png", "\(root)/imgs/b.png"])
        XCTAssertEqual(csv.map(\.label), [false, true])
        XCTAssertEqual(csv[1].maskPath, "\(root)/masks/b.png")
        try write("l.jsonl", """
            {"image": "imgs/a.png", "label": 0, "class": "x"}
            {"image": "imgs/b.png", "label": true, "mask": "masks/b.png", "class": "x", "defect": "scratch"}
            """)
        let jl = try XCTUnwrap(ListDataset(path: root + "/l.jsonl").samples(split: .test)["x"])
        XCTAssertEqual(jl.map(\.label), [false, true])
        XCTAssertEqual(jl[1].defectType, "scratch")
        try write("bad.csv", "image,label\nimgs/a.png,maybe\n")
        XCTAssertThrowsError(try ListDataset(path: root + "/bad.csv").samples(split: .test)) {
            XCTAssertEqual("\($0)", "\(root)/bad.csv:2: label 'maybe' is neither normal nor anomalous")
        }
        try write("missing.csv", "image,label\nimgs/zzz.png,0\n")
        XCTAssertThrowsError(try ListDataset(path: root + "/missing.csv").samples(split: .test)) {
            XCTAssertTrue("\($0)".contains("imgs/zzz.png"))
        }
    }

    func testCSVQuoting() throws {
        let t = try CSVTable(text: "a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n,\n", path: "t.csv")
        XCTAssertEqual(t.header, ["a", "b"])
        XCTAssertEqual(t.rows.map(\.fields), [["x,1", "say \"hi\""], ["", ""]])
        XCTAssertThrowsError(try CSVTable(text: "a\n\"open", path: "t.csv"))
    }

    // MARK: - Folders

    func testFolderLayout() throws {
        try touch("widget/normal/1.png", "widget/normal/0.png", "widget/abnormal/5.png",
                  "widget/abnormal/dent/7.jpg", "widget/masks/5.png", "widget/masks/dent/7.png")
        let ds = FolderDataset(root: root + "/widget", trainNormals: 1)
        let test = try XCTUnwrap(ds.samples(split: .test)["widget"])
        XCTAssertEqual(test.map { FileTree.lastComponent($0.imagePath) }, ["1.png", "5.png", "7.jpg"])
        XCTAssertEqual(test.map(\.defectType), ["good", "abnormal", "dent"])
        XCTAssertEqual(test[2].maskPath, "\(root)/widget/masks/dent/7.png")
        XCTAssertEqual(try ds.samples(split: .train)["widget"]?.map { FileTree.lastComponent($0.imagePath) }, ["0.png"])
        XCTAssertThrowsError(try FolderDataset(root: root + "/widget").samples(split: .train)) {
            XCTAssertEqual($0 as? DatasetError, .emptySplit(split: "train", path: "\(root)/widget/normal"))
        }
    }

    func testLayoutNames() throws {
        XCTAssertEqual(try DatasetLayout(name: "MVTec-LOCO"), .mvtecLOCO)
        XCTAssertThrowsError(try DatasetLayout(name: "kitti")) {
            XCTAssertTrue("\($0)".hasPrefix("unknown dataset layout 'kitti'"))
        }
    }

    // MARK: - Real data

    func testMagneticTileSharedData() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = repo.deletingLastPathComponent().appendingPathComponent("shared/data/magnetic-tile").path
        guard FileTree.isDirectory(data) else { throw XCTSkip("\(data) not present: Magnetic-Tile test skipped") }
        let ds = DatasetLayout.magneticTile.reader(root: data, trainNormals: 16)
        let test = try XCTUnwrap(ds.samples(split: .test)["magnetic-tile"])
        let train = try XCTUnwrap(ds.samples(split: .train)["magnetic-tile"])
        XCTAssertEqual(train.count, 16)
        XCTAssertEqual(test.count, 952 - 16 + 115 + 85 + 57 + 32 + 103)
        XCTAssertEqual(test.filter(\.label).count, 392)
        XCTAssertEqual(Set(test.map(\.defectType)), ["good", "blowhole", "break", "crack", "fray", "uneven"])
        XCTAssertTrue(test.filter(\.label).allSatisfy { $0.maskPath?.hasSuffix(".png") == true })
        XCTAssertTrue(Set(train.map(\.imagePath)).isDisjoint(with: test.map(\.imagePath)))
        XCTAssertEqual(train.map(\.imagePath), train.map(\.imagePath).sorted())
        // A defect kind is a class of its own: the test normals plus that kind; an unknown name lists the valid ones.
        let fray = try XCTUnwrap(ds.samples(split: .test, classes: ["MT_Fray"])["MT_Fray"])
        XCTAssertEqual(fray.count, 952 - 16 + 32)
        XCTAssertEqual(Set(fray.filter(\.label).map(\.defectType)), ["fray"])
        XCTAssertThrowsError(try ds.samples(split: .test, classes: ["MT_Nope"])) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("(classes: magnetic-tile, MT_Blowhole, MT_Break, MT_Crack, MT_Fray, MT_Uneven)"), text)
            XCTAssertTrue(text.contains("per defect type"), text)
        }
    }
}
