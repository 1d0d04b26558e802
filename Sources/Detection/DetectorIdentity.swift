/// What a set of thresholds depends on: scores from a detector that differs in any of these are on another scale.
public struct DetectorIdentity: Codable, Equatable, Sendable {
    public var method: DetectionMethod
    public var className: String?
    public var clipFingerprint: String?
    public var imageSize: Int
    public var mapSize: Int
    /// Number of normal reference images (WinCLIP+, PromptAD); 0 for zero-shot.
    public var shotCount: Int
    /// AnomalyCLIP's summed layers (the map's range grows with their number).
    public var layers: [Int]?

    public init(method: DetectionMethod, className: String?, clipFingerprint: String?, imageSize: Int, mapSize: Int,
                shotCount: Int, layers: [Int]?) {
        self.method = method
        self.className = className
        self.clipFingerprint = clipFingerprint
        self.imageSize = imageSize
        self.mapSize = mapSize
        self.shotCount = shotCount
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case method, className = "class_name", clipFingerprint = "clip_fingerprint", imageSize = "image_size"
        case mapSize = "map_size", shotCount = "shot_count", layers
    }

    /// "field: recorded X, this detector Y" for each field that differs (unknown recorded values are not compared).
    public func differences(from current: DetectorIdentity) -> [String] {
        var out: [String] = []
        func compare<T: Equatable>(_ name: String, _ recorded: T?, _ now: T?, _ show: (T) -> String) {
            guard let recorded, recorded != now else { return }
            out.append("\(name): calibrated \(show(recorded)), this detector \(now.map(show) ?? "none")")
        }
        compare("method", method, current.method) { $0.rawValue }
        compare("class", className, current.className) { "'\($0)'" }
        compare("CLIP checkpoint", clipFingerprint, current.clipFingerprint) { $0 }
        compare("input size", imageSize, current.imageSize) { "\($0)" }
        compare("map size", mapSize, current.mapSize) { "\($0)" }
        compare("shots", shotCount, current.shotCount) { "\($0)" }
        compare("layers", layers, current.layers) { $0.map(String.init).joined(separator: ",") }
        return out
    }
}
