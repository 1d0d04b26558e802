import Evaluation
import Foundation

/// Thresholds together with the detector they were calibrated for, so that applying them to another one is caught.
/// As JSON: the `Thresholds` fields, `calibrated_for` and `clipad_version` in one object (a thresholds file from an
/// older ClipAD, without `calibrated_for`, still reads; only its method is then known).
public struct CalibratedThresholds: Codable, Equatable, Sendable {
    public var thresholds: Thresholds
    public var calibratedFor: DetectorIdentity?

    public init(thresholds: Thresholds, calibratedFor: DetectorIdentity?) {
        self.thresholds = thresholds
        self.calibratedFor = calibratedFor
    }

    enum CodingKeys: String, CodingKey { case calibratedFor = "calibrated_for", clipadVersion = "clipad_version" }

    public init(from decoder: Decoder) throws {
        thresholds = try Thresholds(from: decoder)
        calibratedFor = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(DetectorIdentity.self, forKey: .calibratedFor)
    }

    public func encode(to encoder: Encoder) throws {
        try thresholds.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(calibratedFor, forKey: .calibratedFor)
        try c.encode(ClipADVersion.current, forKey: .clipadVersion)
    }

    /// Reads a thresholds JSON written by `clipad calibrate`.
    public static func read(jsonFile path: String) throws -> CalibratedThresholds {
        try JSONFile.decode(CalibratedThresholds.self, from: path)
    }

    public func json() -> String { JSONFile.encode(self) }

    // MARK: - In model files

    static let identityKey = "threshold.calibrated_for"

    /// As model-file metadata: `Thresholds.metadata` plus the identity.
    public var metadata: [String: String] {
        var m = thresholds.metadata
        if let calibratedFor { m[Self.identityKey] = JSONFile.encode(calibratedFor) }
        return m
    }

    /// From model-file metadata; nil when the file holds no thresholds.
    public init?(metadata: [String: String]) {
        guard let t = Thresholds(metadata: metadata) else { return nil }
        thresholds = t
        calibratedFor = metadata[Self.identityKey].flatMap { try? JSONDecoder().decode(DetectorIdentity.self, from: Data($0.utf8)) }
    }

    /// Throws when these thresholds were calibrated for another detector than `current` (method, class, CLIP, sizes,
    /// shots); with `force`, returns the differences as warnings instead.
    public func check(against current: DetectorIdentity, what: String, force: Bool) throws -> [String] {
        var differences = calibratedFor.map { $0.differences(from: current) } ?? []
        if calibratedFor == nil, thresholds.method != current.method.rawValue {
            differences.append("method: calibrated \(thresholds.method), this detector \(current.method.rawValue)")
        }
        guard !differences.isEmpty else { return [] }
        if force { return differences.map { "warning: \(what) calibrated for another detector (--force): \($0)" } }
        throw DetectionError.specMismatch(what: what, differences: differences)
    }
}
