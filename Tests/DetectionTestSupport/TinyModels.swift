import AnomalyCLIP
import Checkpoint
import CLIP
import Detection
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor

/// Small random-weight model files in a temporary folder, shared by the Detection and Server tests, for every method: a CLIP checkpoint (9 vision blocks, so
/// PromptAD's memory layers 3 and 8 exist), AnomalyCLIP prompts, a PromptAD model fitted on two images, images.
public struct TinyModels: Sendable {
    public let folder: URL
    public let clip: String
    public let prompts: String
    public let promptAD: String
    /// Two "normal" images (the PromptAD / WinCLIP+ shots) and two test images.
    public let shots: [String]
    public let tests: [String]

    public static let architecture = try! JSONDecoder().decode(CLIPArchitecture.self, from: Data("""
        {"embed_dim": 32, "quick_gelu": true,
         "vision_cfg": {"image_size": 64, "layers": 9, "width": 64, "patch_size": 16},
         "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 2}}
        """.utf8))

    public static func make() throws -> TinyModels {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-detection-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let clip = folder.appendingPathComponent("clip.safetensors").path
        try SafetensorsWriter.write(CLIPModel.randomWeights(architecture, seed: 5), to: clip)
        let model = try CLIPModel.load(path: clip)

        var config = AnomalyCLIPConfiguration()
        config.imageSize = 64
        config.featureLayers = [5, 9]
        config.dpamBlocks = 4
        config.deepPromptDepth = 2
        let prompts = folder.appendingPathComponent("prompts.safetensors").path
        try PromptParameters.random(width: model.text.width, configuration: config, seed: 3).save(path: prompts, configuration: config)

        let generator = SyntheticDefectImages(size: 80)
        var images: [String] = []
        for (i, defect) in [SyntheticDefectImages.Defect.none, .none, .none, .hole].enumerated() {
            let s = generator.sample(index: i, defect: defect)
            let path = folder.appendingPathComponent("image\(i).png").path
            try ImageEncoder.write(Image(width: s.size, height: s.size, channels: 3, pixels: s.rgb), to: path)
            images.append(path)
        }
        let shots = Array(images.prefix(2)), tests = Array(images.suffix(2))

        var pa = PromptADConfiguration()
        pa.imageSize = 64
        pa.epochs = 1
        let fitter = try PromptADFitter(model: model, configuration: pa, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        let preprocessor = ImagePreprocessor(size: 64, resize: .square)
        let pixels = preprocessor.batch(try shots.map { try ImageDecoder.decodeRGB(path: $0) })
        let features = try PromptADImageFeatures.compute(pixels, model: model, configuration: pa)
        let fitted = try fitter.fit(shotFeatures: features, shots: shots, clipPath: clip)
        let promptAD = folder.appendingPathComponent("promptad.safetensors").path
        try fitted.save(path: promptAD)
        return TinyModels(folder: folder, clip: clip, prompts: prompts, promptAD: promptAD, shots: shots, tests: tests)
    }

    public func remove() { try? FileManager.default.removeItem(at: folder) }

    public func spec(_ method: DetectionMethod) -> DetectorSpec {
        var s = DetectorSpec(method: method)
        switch method {
        case .anomalyclip: s.clip = clip; s.prompts = prompts
        case .promptad: s.model = promptAD
        case .winclip: s.clip = clip; s.shots = shots
        }
        return s
    }

    public func images(_ paths: [String]) throws -> [Image] { try paths.map { try ImageDecoder.decodeRGB(path: $0) } }
}
