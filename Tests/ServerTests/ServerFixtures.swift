import DetectionTestSupport
import Foundation

/// A tiny model repository in a temporary folder, made of DetectionTestSupport's `TinyModels` (a 9-block random CLIP
/// at 64 px, AnomalyCLIP prompts, a PromptAD model fitted on two images): `bottle/` (the lone PromptAD model file),
/// `cable/` (a spec.json for AnomalyCLIP with paths relative to its folder), `broken/` (a spec.json naming a missing
/// file), `bad name/` (an entry clients cannot address), and the two test images.
struct ServerFixtures {
    let folder: URL
    let repository: String
    /// Encoded PNG files (TinyModels' test images).
    let pngs: [Data]

    static func make() throws -> ServerFixtures {
        let fm = FileManager.default
        let tiny = try TinyModels.make()
        let repo = tiny.folder.appendingPathComponent("models")
        for sub in ["bottle", "cable", "broken", "bad name"] {
            try fm.createDirectory(at: repo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: tiny.clip, toPath: repo.appendingPathComponent("cable/clip.safetensors").path)
        try fm.copyItem(atPath: tiny.prompts, toPath: repo.appendingPathComponent("cable/prompts.safetensors").path)
        try Data(#"{"method": "anomalyclip", "clip": "clip.safetensors", "prompts": "prompts.safetensors"}"#.utf8)
            .write(to: repo.appendingPathComponent("cable/spec.json"))
        try Data(#"{"method": "promptad", "model": "missing.safetensors"}"#.utf8).write(to: repo.appendingPathComponent("broken/spec.json"))
        // The PromptAD model records the CLIP at its absolute path in `tiny.folder`, which stays.
        try fm.copyItem(atPath: tiny.promptAD, toPath: repo.appendingPathComponent("bottle/promptad.safetensors").path)
        let pngs = try tiny.tests.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        return ServerFixtures(folder: tiny.folder, repository: repo.path, pngs: pngs)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}
