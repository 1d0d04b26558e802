import Foundation

/// Paths recorded inside model files (the CLIP checkpoint, shots) as they were typed at fit time: when that path is
/// gone, the same path relative to the model file's folder, then the bare file name there, are tried.
public enum ModelFilePaths {
    static func resolve(_ recorded: String, besideModel modelPath: String, what: String) throws -> String {
        let candidates = candidates(recorded, besideModel: modelPath)
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw DetectionError.missingFile(path: JSONFile.absolute(recorded), what: "\(what) recorded in \(JSONFile.absolute(modelPath))",
                                         tried: candidates.map(JSONFile.absolute))
    }

    static func candidates(_ recorded: String, besideModel modelPath: String) -> [String] {
        let folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
        var out = [recorded]
        if !recorded.hasPrefix("/") { out.append(folder.appendingPathComponent(recorded).path) }
        out.append(folder.appendingPathComponent((recorded as NSString).lastPathComponent).path)
        var seen = Set<String>()
        return out.filter { seen.insert(JSONFile.absolute($0)).inserted }
    }

    /// What to record for a path given now: absolute, so the model file works from any folder.
    public static func recordable(_ path: String) -> String { JSONFile.absolute(path) }
}
