import Foundation

extension DetectorSpec {
    /// The spec with every relative file path it names (clip, prompts, model, shots) made absolute against `folder`,
    /// the folder of the spec file it was read from (a model repository entry): the spec works from any directory.
    public func resolvingRelativePaths(against folder: String) -> DetectorSpec {
        let base = URL(fileURLWithPath: folder, isDirectory: true)
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        var out = self
        out.clip = clip.map(resolve)
        out.prompts = prompts.map(resolve)
        out.model = model.map(resolve)
        out.shots = shots?.map(resolve)
        return out
    }
}
