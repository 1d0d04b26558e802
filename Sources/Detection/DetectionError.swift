/// Errors from building or running a detector, each a line a user can act on.
public enum DetectionError: Error, CustomStringConvertible, Equatable {
    case missingSetting(setting: String, method: String, why: String)
    case settingNotApplicable(setting: String, method: String, accepted: [String])
    case badSetting(setting: String, reason: String)
    case unreadableFile(path: String, reason: String)
    case missingFile(path: String, what: String, tried: [String])
    case specMismatch(what: String, differences: [String])
    case nonFiniteScore(image: String)
    /// Preprocessed input of the wrong shape (`Detector.predict(pixels:)`); -1 in `expected` is any batch size.
    case badPixels(shape: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .missingSetting(setting, method, why):
            return "--\(setting) is required for --method \(method) (\(why))"
        case let .settingNotApplicable(setting, method, accepted):
            return "--\(setting) means nothing for --method \(method) (it takes \(accepted.map { "--\($0)" }.joined(separator: ", ")))"
        case let .badSetting(setting, reason):
            return "--\(setting): \(reason)"
        case let .unreadableFile(path, reason):
            return "\(path): \(reason)"
        case let .missingFile(path, what, tried):
            let also = tried.filter { $0 != path }
            return "\(path): \(what) does not exist" + (also.isEmpty ? "" : " (also tried \(also.joined(separator: ", ")))")
        case let .specMismatch(what, differences):
            return "\(what) were calibrated for a different detector: \(differences.joined(separator: "; ")) (recalibrate with `clipad calibrate`, or pass --force to use them anyway)"
        case let .nonFiniteScore(image):
            return "\(image): the method produced a non-finite score (NaN or infinity); not written"
        case let .badPixels(shape, expected):
            return "preprocessed pixels have shape \(shape), expected \(expected.map { $0 < 0 ? "B" : "\($0)" }) (B >= 1)"
        }
    }
}
