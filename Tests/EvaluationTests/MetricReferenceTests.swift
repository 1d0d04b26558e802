import Foundation
import XCTest

@testable import Evaluation

/// Metrics against tools/fixtures/make_metric_fixtures.py (scikit-learn, scipy, skimage, plain Python AUPRO).
final class MetricReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct ImageCase: Decodable {
            let name: String
            let scores: [Float]
            let labels: [Int]
            let auroc: Double
            let ap: Double
            let f1max: Double
        }
        struct PixelCase: Decodable {
            let name: String
            let count: Int
            let height: Int
            let width: Int
            let maps: String
            let masks: String
            let auroc: Double
            let ap: Double
            let f1max: Double
            let aupro: Double
            let aupro_anomalyclip: Double
            let anomalyclip_thresholds: [Double]
            let component_sizes: [[Int]]

            func samples() throws -> [PixelSample] {
                let mapData = try XCTUnwrap(Data(base64Encoded: maps))
                let maskData = try XCTUnwrap(Data(base64Encoded: masks))
                let area = width * height
                XCTAssertEqual(mapData.count, count * area * 4)
                XCTAssertEqual(maskData.count, count * area)
                let floats: [Float] = mapData.withUnsafeBytes { raw in
                    (0..<(count * area)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(
                        fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
                let bytes = [UInt8](maskData)
                return try (0..<count).map { k in
                    let mask = Array(bytes[(k * area)..<((k + 1) * area)])
                    return try PixelSample(width: width, height: height,
                                           scores: Array(floats[(k * area)..<((k + 1) * area)]),
                                           mask: mask.contains { $0 != 0 } ? mask : nil)
                }
            }
        }
        let image_cases: [ImageCase]
        let pixel_cases: [PixelCase]
    }

    static let reference: Reference? = {
        guard let url = Bundle.module.url(forResource: "metrics_reference", withExtension: "json",
                                          subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    func loadReference() throws -> Reference {
        try XCTUnwrap(Self.reference, "Fixtures/metrics_reference.json missing or unreadable")
    }

    // MARK: - Image level

    func testImageMetricsMatchSklearn() throws {
        let ref = try loadReference()
        XCTAssertGreaterThan(ref.image_cases.count, 30)
        for c in ref.image_cases {
            let labels = c.labels.map { $0 != 0 }
            let m = try ImageMetrics.compute(scores: c.scores, labels: labels)
            XCTAssertEqual(m.auroc, c.auroc, accuracy: 1e-9, c.name)
            XCTAssertEqual(m.averagePrecision, c.ap, accuracy: 1e-9, c.name)
            XCTAssertEqual(m.f1Max, c.f1max, accuracy: 1e-9, c.name)
            XCTAssertEqual(try AUROC.compute(scores: c.scores, labels: labels), c.auroc, accuracy: 1e-9, c.name)
            XCTAssertEqual(try AveragePrecision.compute(scores: c.scores, labels: labels), c.ap, accuracy: 1e-9)
            XCTAssertEqual(try F1Max.compute(scores: c.scores, labels: labels), c.f1max, accuracy: 1e-9)
        }
    }

    /// The pixel sweep on one 1-pixel-high map per image case equals sklearn too (exercises the bucket passes
    /// on heavy ties, negative scores and signed zeros).
    func testPixelSweepOnImageCases() throws {
        let ref = try loadReference()
        for c in ref.image_cases {
            let sample = try PixelSample(width: c.scores.count, height: 1, scores: c.scores,
                                         mask: c.labels.map { UInt8($0) })
            for small in [0, Int.max] {
                let r = try PixelSweep.run([sample], withAUPRO: false, fprLimit: 0.3, smallBucket: small)
                XCTAssertEqual(r.auroc, c.auroc, accuracy: 1e-9, c.name)
                XCTAssertEqual(r.averagePrecision, c.ap, accuracy: 1e-9, c.name)
                XCTAssertEqual(r.f1Max, c.f1max, accuracy: 1e-9, c.name)
            }
        }
    }

    // MARK: - Pixel level

    func testPixelMetricsAndAUPROMatchReference() throws {
        let ref = try loadReference()
        for c in ref.pixel_cases {
            let samples = try c.samples()
            let m = try PixelMetrics.compute(samples, proMode: .mvtec)
            XCTAssertEqual(m.auroc, c.auroc, accuracy: 1e-6, c.name)
            XCTAssertEqual(m.averagePrecision, c.ap, accuracy: 1e-6, c.name)
            XCTAssertEqual(m.f1Max, c.f1max, accuracy: 1e-6, c.name)
            XCTAssertEqual(try XCTUnwrap(m.aupro), c.aupro, accuracy: 1e-5, c.name)
            // Both bucket strategies (counting pass and sort) give the same curve.
            for small in [0, Int.max] {
                let r = try PixelSweep.run(samples, withAUPRO: true, fprLimit: 0.3, smallBucket: small)
                XCTAssertEqual(r.auroc, c.auroc, accuracy: 1e-6, c.name)
                XCTAssertEqual(r.averagePrecision, c.ap, accuracy: 1e-6, c.name)
                XCTAssertEqual(r.f1Max, c.f1max, accuracy: 1e-6, c.name)
                XCTAssertEqual(try XCTUnwrap(r.aupro), c.aupro, accuracy: 1e-5, c.name)
            }
        }
    }

    func testAnomalyCLIPModeMatchesCalProScore() throws {
        let ref = try loadReference()
        for c in ref.pixel_cases {
            let samples = try c.samples()
            let all = samples.flatMap(\.scores)
            let t = try AUPRO.anomalyCLIPThresholds(minimum: all.min() ?? 0, maximum: all.max() ?? 0)
            XCTAssertEqual(t, c.anomalyclip_thresholds, c.name)  // bit-exact numpy arange
            XCTAssertEqual(try AUPRO.anomalyCLIP(samples), c.aupro_anomalyclip, accuracy: 1e-5, c.name)
            let m = try PixelMetrics.compute(samples, proMode: .anomalyclip)
            XCTAssertEqual(try XCTUnwrap(m.aupro), c.aupro_anomalyclip, accuracy: 1e-5, c.name)
        }
    }

    func testConnectedComponentsMatchScipy() throws {
        let ref = try loadReference()
        for c in ref.pixel_cases {
            let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: c.masks)))
            let area = c.width * c.height
            for k in 0..<c.count {
                let cc = try ConnectedComponents(mask: Array(bytes[(k * area)..<((k + 1) * area)]),
                                                 width: c.width, height: c.height)
                XCTAssertEqual(cc.sizes, c.component_sizes[k], "\(c.name) mask \(k)")
            }
        }
    }
}
