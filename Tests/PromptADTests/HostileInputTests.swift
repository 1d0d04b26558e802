import Checkpoint
import CLIP
import Foundation
import Tensor
import XCTest
@testable import PromptAD

/// Issue 13 reproducers for PromptAD model files: metadata that would size or divide anything is validated on
/// load, with the file and field named.
final class HostileInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("promptad-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func model(_ edit: (inout PromptADModel) -> Void = { _ in }) -> PromptADModel {
        var m = PromptADModel(configuration: PromptADConfiguration(), className: "bottle", states: ["broken {}"],
                              contexts: [:], galleries: [.classification: Tensor(zeros: [2, 8]), .segmentation: Tensor(zeros: [2, 8])],
                              memoryBanks: [Tensor(zeros: [4, 16]), Tensor(zeros: [4, 16])], logitScale: 4.6,
                              shots: ["a.png"], clipPath: "clip.safetensors", activation: "gelu", losses: [:])
        edit(&m)
        return m
    }

    private func saved(_ m: PromptADModel) throws -> String {
        let path = directory.appendingPathComponent("model-\(UUID().uuidString).safetensors").path
        try m.save(path: path)
        return path
    }

    func testValidModelLoads() throws {
        XCTAssertEqual(try PromptADModel.load(path: try saved(model())).0.configuration, PromptADConfiguration())
    }

    func testMetadataOutOfRangeIsRejectedOnLoad() throws {
        let cases: [((inout PromptADModel) -> Void, String)] = [
            ({ $0.configuration.sigma = -1 }, "metadata 'configuration': field 'sigma' is -1.0"),
            ({ $0.configuration.sigma = 1e9 }, "metadata 'configuration': field 'sigma' is 1000000000.0"),
            ({ $0.configuration.imageSize = 200_000 }, "metadata 'configuration': field 'imageSize' is 200000"),
            ({ $0.configuration.imageSize = -56 }, "metadata 'configuration': field 'imageSize' is -56"),
            ({ $0.configuration.memoryLayers = [] }, "metadata 'configuration': field 'memoryLayers' is []"),
            ({ $0.configuration.normalContextTokens = 0 }, "metadata 'configuration': field 'normalContextTokens' is 0"),
            ({ $0.logitScale = .nan }, "metadata 'logit_scale' is nan"),
            ({ $0.logitScale = .infinity }, "metadata 'logit_scale' is inf"),
            ({ $0.logitScale = 1e6 }, "metadata 'logit_scale' is 1000000.0"),
        ]
        for (edit, message) in cases {
            let path = try saved(model(edit))
            XCTAssertThrowsError(try PromptADModel.load(path: path)) {
                guard case PromptADError.badModelFile(let file, let reason) = $0 else { return XCTFail("\($0)") }
                XCTAssertEqual(file, path)
                XCTAssertTrue(reason.hasPrefix(message), "\(reason) does not start with \(message)")
            }
        }
    }

    func testContextShapesAreChecked() throws {
        let path = try saved(model {
            $0.contexts[.segmentation] = PromptContext(normal: Tensor(zeros: [1, 4, 8]), anomaly: Tensor(zeros: [4, 2, 8]))
        })
        XCTAssertThrowsError(try PromptADModel.load(path: path)) {
            XCTAssertEqual("\($0)", "\(path): 'seg.abnormal_ctx' has shape [4, 2, 8], expected [4, 1, 8]")
        }
    }

    func testDetectorRejectsSizesTheBackboneCannotTake() throws {
        let clip = try CLIPModel.random(CLIPArchitecture.bundled("tiny-demo"), seed: 3)
        var m = model { $0.galleries = [.classification: Tensor(zeros: [2, 64]), .segmentation: Tensor(zeros: [2, 64])] }
        m.memoryBanks = [Tensor(zeros: [4, 128]), Tensor(zeros: [4, 128])]
        m.configuration.memoryLayers = [1, 2]
        m.configuration.imageSize = 13  // below one 16-pixel patch
        XCTAssertThrowsError(try PromptADDetector(model: clip, fitted: m)) {
            XCTAssertEqual($0 as? PromptADError, .badConfiguration("image size 13 must be in 16...4096 for a vision tower with 16-pixel patches"))
        }
        m.configuration.imageSize = 64
        let detector = try PromptADDetector(model: clip, fitted: m)
        XCTAssertThrowsError(try detector.detect(Tensor(zeros: [1, 3, 64, 64]), mapSize: 0))
        XCTAssertThrowsError(try detector.detect(Tensor(zeros: [1, 3, 8, 8]), mapSize: 64))
    }
}
