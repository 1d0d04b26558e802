import Checkpoint
import CLIP
import Foundation
import Tensor
import TestSupport
import XCTest
@testable import AnomalyCLIP

/// AnomalyCLIP + shots against a PyTorch reference of the published formula on the same tiny random CLIP
/// (tools/fixtures/make_anomalyclip_fewshot_fixtures.py): bank tokens, leave-one-out maxima, few-shot map, fused
/// map and fused score. The zero-shot half in the reference comes from the official code (reference.safetensors).
final class AnomalyCLIPShotParityTests: XCTestCase {
    static let bankLayers = [1, 2, 3, 4]

    static func shots(_ reference: Checkpoint) throws -> [Tensor] {
        let images = try reference.tensor("shot_images")   // [3, 3, 56, 56]
        return (0..<images.shape[0]).map { images[$0].reshaped([1, 3, 56, 56]) }
    }

    func testBankMapsAndScoresMatchTheReference() throws {
        let (detector, ref) = try AnomalyCLIPParityTests.makeDetector()
        let few = try Checkpoint.load(path: AnomalyCLIPParityTests.path("fewshot_reference.safetensors"))
        let bank = try detector.shotBank(shots: try Self.shots(few), layers: Self.bankLayers)
        XCTAssertEqual(bank.shotCount, 3)
        for layer in Self.bankLayers {
            assertParity(bank.memories[layer]!.rows, try few.tensor("bank_layer\(layer)"), "bank tokens layer \(layer)")
        }
        assertParity(Tensor(shape: [3], scalars: bank.leaveOneOutMaxima), try few.tensor("leave_one_out_maxima"), "leave-one-out maxima")

        let result = detector.detect(try ref.tensor("images"), shots: bank)
        assertParity(result.fewShotMaps, try few.tensor("few_shot_map"), "few-shot map")
        assertParity(result.zeroShotMaps, try ref.tensor("anomaly_map_raw"), "zero-shot raw map (official)")
        assertParity(Tensor(shape: [2], scalars: result.zeroShotScores), try ref.tensor("image_scores"), "zero-shot scores (official)")
        assertParity(Tensor(shape: [2], scalars: result.fewShotMaxima), try few.tensor("few_shot_maxima"), "few-shot maxima")
        assertParity(result.rawMaps, try few.tensor("fused_map_raw"), "fused raw map")
        assertParity(result.maps, try few.tensor("fused_map"), "fused smoothed map")
        assertParity(Tensor(shape: [2], scalars: result.imageScores), try few.tensor("fused_scores"), "fused scores")
        // The grid map is the grid sum of both halves: zero-shot grid + few-shot grid.
        let zeroGrid = detector.detect(try ref.tensor("images")).gridMaps
        var want = try few.tensor("few_shot_grid")
        want.add(zeroGrid)
        assertParity(result.gridMaps, want, "fused grid map")
    }

    func testShotsChangeNothingOfTheZeroShotPathWhenAbsent() throws {
        // The zero-shot detector keeps its own forward (class token only in the last block): bit-identical to before
        // the shared forward existed, and equal (within the parity bar) to the zero-shot half of the shot forward.
        let (detector, ref) = try AnomalyCLIPParityTests.makeDetector()
        let images = try ref.tensor("images")
        let zero = detector.detect(images)
        let (features, tokens) = detector.featuresAndBankTokens(images, bankLayers: Self.bankLayers)
        assertParity(features.global, detector.features(images).global, tolerance: 1e-6, "global feature, shared forward")
        XCTAssertEqual(Set(tokens.keys), Set(Self.bankLayers))
        XCTAssertEqual(tokens[4]!.shape, [2, 16, 64], "the last block's patch tokens, kept because it is a bank layer")
        assertParity(zero.rawMaps, try ref.tensor("anomaly_map_raw"), "zero-shot raw map")
    }

    func testBadShotSettingsAreOneLineErrors() throws {
        let (detector, _) = try AnomalyCLIPParityTests.makeDetector()
        let few = try Checkpoint.load(path: AnomalyCLIPParityTests.path("fewshot_reference.safetensors"))
        let shots = try Self.shots(few)
        XCTAssertThrowsError(try detector.shotBank(shots: shots, layers: [2, 5])) {
            XCTAssertEqual("\($0)", "AnomalyCLIP: bank layer 5 must be in 1...4 (the vision tower's blocks)")
        }
        XCTAssertThrowsError(try detector.shotBank(shots: Array(shots.prefix(1)), layers: [2])) {
            XCTAssertTrue("\($0)".hasPrefix("AnomalyCLIP: AnomalyCLIP + shots needs at least 2 shots"), "\($0)")
        }
    }

    func testBankRoundTripsThroughAModelFileAndRejectsHostileMetadata() throws {
        let (detector, _) = try AnomalyCLIPParityTests.makeDetector()
        let few = try Checkpoint.load(path: AnomalyCLIPParityTests.path("fewshot_reference.safetensors"))
        let bank = try detector.shotBank(shots: try Self.shots(few), layers: [2, 4])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-shotbank-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("bank.safetensors").path
        try SafetensorsWriter.write(bank.namedTensors, metadata: bank.metadata, to: path)
        let loaded = try XCTUnwrap(try AnomalyCLIPShotBank.load(checkpoint: try Checkpoint.load(path: path)))
        XCTAssertEqual(loaded.layers, [2, 4])
        XCTAssertEqual(loaded.leaveOneOutMaxima, bank.leaveOneOutMaxima)
        // Rows are used as stored: the round trip is exact (scores of a model file equal those of the bank written).
        for layer in [2, 4] { XCTAssertEqual(loaded.memories[layer]!.rows.scalars, bank.memories[layer]!.rows.scalars, "layer \(layer)") }
        try loaded.check(against: detector.model, source: path)

        // Rows that are not unit length (a hand-made or damaged file) are refused, naming the tensor and the row.
        var tensors = bank.namedTensors
        var scaled = tensors["shot_bank.layer4"]!
        let width = scaled.shape[1]
        scaled.withMutableData { for j in 0..<width { $0[5 * width + j] *= 1.01 } }
        tensors["shot_bank.layer4"] = scaled
        try SafetensorsWriter.write(tensors, metadata: bank.metadata, to: path)
        XCTAssertThrowsError(try AnomalyCLIPShotBank.load(checkpoint: try Checkpoint.load(path: path))) {
            XCTAssertTrue("\($0)".contains("tensor 'shot_bank.layer4' row 5 is not L2-normalised"), "\($0)")
        }

        var hostile = bank.metadata
        hostile["shot_bank.leave_one_out_maxima"] = "[1, NaN"
        try SafetensorsWriter.write(bank.namedTensors, metadata: hostile, to: path)
        XCTAssertThrowsError(try AnomalyCLIPShotBank.load(checkpoint: try Checkpoint.load(path: path))) {
            XCTAssertTrue("\($0)".contains("must be a JSON list of 3 finite numbers"), "\($0)")
        }
        hostile = bank.metadata
        hostile["shot_bank.layers"] = "2,9"
        try SafetensorsWriter.write(bank.namedTensors, metadata: hostile, to: path)
        XCTAssertThrowsError(try AnomalyCLIPShotBank.load(checkpoint: try Checkpoint.load(path: path))) {
            XCTAssertTrue("\($0)".contains("missing tensor 'shot_bank.layer9'"), "\($0)")
        }
    }
}
