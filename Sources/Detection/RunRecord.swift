import Checkpoint
import Foundation

/// `run.json` beside a run's outputs: the detector that ran (its resolved spec, so `--spec run.json` repeats it),
/// the warnings the user was shown, counts, and ClipAD's version.
public struct RunRecord: Codable, Sendable {
    public var spec: DetectorSpec
    public var warnings: [String]
    public var images: Int
    public var failures: Int
    public var clipadVersion = ClipADVersion.current

    public init(spec: DetectorSpec, warnings: [String], images: Int, failures: Int) {
        self.spec = spec
        self.warnings = warnings
        self.images = images
        self.failures = failures
    }

    enum CodingKeys: String, CodingKey { case spec, warnings, images, failures, clipadVersion = "clipad_version" }

    public func write(to path: String) throws {
        try AtomicFileWriter.write(Data((JSONFile.encode(self) + "\n").utf8), to: path)
    }
}
