import AnomalyCLIP
import Checkpoint
import CLIP
import ClipADServer
import Detection
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor

/// A tiny model repository in a temporary folder: `bottle/` (a lone PromptAD model file), `cable/` (a spec.json for
/// AnomalyCLIP with paths relative to its folder), `broken/` (a spec.json naming a missing file), and test images.
/// Random weights like DetectionTests' TinyModels (a 9-block CLIP at 64 px).
struct ServerFixtures {
    let folder: URL
    let repository: String
    /// Encoded PNG files.
    let pngs: [Data]

    static let architecture = try! JSONDecoder().decode(CLIPArchitecture.self, from: Data("""
        {"embed_dim": 32, "quick_gelu": true,
         "vision_cfg": {"image_size": 64, "layers": 9, "width": 64, "patch_size": 16},
         "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 2}}
        """.utf8))

    static func make() throws -> ServerFixtures {
        let fm = FileManager.default
        let folder = fm.temporaryDirectory.appendingPathComponent("clipad-server-\(UUID().uuidString)")
        let repo = folder.appendingPathComponent("models")
        for sub in ["bottle", "cable", "broken", "bad name"] {
            try fm.createDirectory(at: repo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let clip = folder.appendingPathComponent("clip.safetensors").path
        try SafetensorsWriter.write(CLIPModel.randomWeights(architecture, seed: 5), to: clip)
        let model = try CLIPModel.load(path: clip)

        // cable: AnomalyCLIP through a spec.json with relative paths.
        try fm.copyItem(atPath: clip, toPath: repo.appendingPathComponent("cable/clip.safetensors").path)
        var config = AnomalyCLIPConfiguration()
        config.imageSize = 64
        config.featureLayers = [5, 9]
        config.dpamBlocks = 4
        config.deepPromptDepth = 2
        try PromptParameters.random(width: model.text.width, configuration: config, seed: 3)
            .save(path: repo.appendingPathComponent("cable/prompts.safetensors").path, configuration: config)
        try Data(#"{"method": "anomalyclip", "clip": "clip.safetensors", "prompts": "prompts.safetensors"}"#.utf8)
            .write(to: repo.appendingPathComponent("cable/spec.json"))
        try Data(#"{"method": "promptad", "model": "missing.safetensors"}"#.utf8).write(to: repo.appendingPathComponent("broken/spec.json"))

        let generator = SyntheticDefectImages(size: 80)
        var paths: [String] = [], pngs: [Data] = []
        for (i, defect) in [SyntheticDefectImages.Defect.none, .none, .none, .hole].enumerated() {
            let s = generator.sample(index: i, defect: defect)
            let image = Image(width: s.size, height: s.size, channels: 3, pixels: s.rgb)
            let path = folder.appendingPathComponent("image\(i).png").path
            try ImageEncoder.write(image, to: path)
            paths.append(path)
            pngs.append(try ImageEncoder.pngData(image))
        }

        // bottle: a lone PromptAD model file, fitted on the first two images.
        var pa = PromptADConfiguration()
        pa.imageSize = 64
        pa.epochs = 1
        let fitter = try PromptADFitter(model: model, configuration: pa, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        let pixels = ImagePreprocessor(size: 64, resize: .square).batch(try paths.prefix(2).map { try ImageDecoder.decodeRGB(path: $0) })
        let features = try PromptADImageFeatures.compute(pixels, model: model, configuration: pa)
        try fitter.fit(shotFeatures: features, shots: Array(paths.prefix(2)), clipPath: clip)
            .save(path: repo.appendingPathComponent("bottle/promptad.safetensors").path)
        return ServerFixtures(folder: folder, repository: repo.path, pngs: Array(pngs.suffix(2)))
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}
