import AnomalyCLIP
import ArgumentParser
import Checkpoint
import CLIP
import Detection
import Evaluation
import Foundation
import ImageIO
import Tensor

/// `clipad demo`: synthetic defect images through the zero-shot AnomalyCLIP pipeline, end to end.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the zero-shot pipeline on generated defect images (a tiny random CLIP unless --clip is given).")

    @Option(help: "Output folder.") var output: String = "demo-output"
    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "AnomalyCLIP prompt file for --clip (official .pth or ClipAD .safetensors); random prompts otherwise.")
    var prompts: String?
    @Option(name: .customLong("image-size"), help: "Square input side (default: per backbone, 224 for the tiny demo model).")
    var imageSize: Int?
    @Option(name: .customLong("color-scale"), help: ColorScaleHelp.text(default: .evaluationDefault))
    var colorScale: ColorScale = .evaluationDefault

    func run() throws {
        // 0. The detector, built like every other run: a spec -> the Detection factory. Without --clip the demo
        // writes a tiny random-weight CLIP and random prompts into the output folder and uses those files.
        let random = clipOptions.clip == nil
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var spec = DetectorSpec(method: .anomalyclip)
        spec.clip = clipOptions.clip
        spec.activation = clipOptions.activation?.rawValue
        spec.prompts = prompts
        spec.imageSize = imageSize
        if random {
            let arch = try CLIPArchitecture.bundled("tiny-demo")
            let clipPath = (output as NSString).appendingPathComponent("tiny-demo-clip.safetensors")
            try SafetensorsWriter.write(CLIPModel.randomWeights(arch, seed: 7), to: clipPath)
            spec.clip = clipPath
            let model = try CLIPModel.load(path: clipPath)
            let config = MethodDefaults.shared.anomalyCLIPConfiguration(model: model)
            let promptsPath = (output as NSString).appendingPathComponent("random-prompts.safetensors")
            try PromptParameters.random(width: model.text.width, configuration: config, seed: 11)
                .save(path: promptsPath, configuration: config)
            spec.prompts = promptsPath
        } else if prompts == nil {
            throw ValidationError("--prompts PATH is required with --clip (the learned AnomalyCLIP prompts)")
        }
        let (detector, _) = try DetectorFactory.make(spec, options: .init(notice: printError))
        let side = detector.mapSide

        // 1. Images: 4 normal parts and 6 with a scratch, stain or hole, plus their masks.
        let generator = SyntheticDefectImages(size: 256)
        let defects: [SyntheticDefectImages.Defect] = [.none, .none, .none, .none, .scratch, .stain, .hole, .scratch, .stain, .hole]
        let imageDir = (output as NSString).appendingPathComponent("images")
        let overlayDir = (output as NSString).appendingPathComponent("overlays")
        for dir in [imageDir, overlayDir] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let writer = try PredictionWriter(directory: output, mapFormat: .npy)
        var scores: [Float] = [], labels: [Bool] = [], pixelSamples: [PixelSample] = []

        // 2. Predict each image, write its map and score; overlays after, once the class's colour range is known.
        var shown: [(name: String, image: Image, map: PixelSample, score: Float, anomalous: Bool)] = []
        for (i, defect) in defects.enumerated() {
            let sample = generator.sample(index: i, defect: defect)
            let name = String(format: "%02d_%@", i, defect.rawValue)
            let image = Image(width: sample.size, height: sample.size, channels: 3, pixels: sample.rgb)
            let imagePath = (imageDir as NSString).appendingPathComponent("\(name).png")
            try ImageEncoder.write(image, to: imagePath)
            let result = try detector.predict(image, name: imagePath)
            let map = result.map
            try writer.writeMap(map, height: side, width: side, stem: name)
            writer.record(image: imagePath, score: result.score, map: "\(name).npy", extra: [("defect", jsonString(defect.rawValue))])

            let mask = PillowResize.nearest(Image(width: sample.size, height: sample.size, channels: 1, pixels: sample.mask),
                                            width: side, height: side)
            scores.append(result.score)
            labels.append(defect != .none)
            let pixelSample = try PixelSample(width: side, height: side, scores: map, mask: mask.pixels)
            pixelSamples.append(pixelSample)
            shown.append((name, image, pixelSample, result.score, defect != .none))
        }
        // The same rule as eval: per-class spans the ten maps, fixed the method's natural range.
        let classRange = ColorScale.span(pixelSamples.map(\.scores))
        for s in shown {
            let range = colorScale.range(of: s.map.scores, classRange: classRange, natural: detector.naturalMapRange)
            let header = OverlayPanel.header(score: s.score, imageThreshold: nil, truth: s.anomalous, pixelThreshold: nil)
            let panel = OverlayPanel.compose(image: s.image, map: s.map, range: range, scale: colorScale, threshold: nil, header: header)
            try ImageEncoder.write(panel.picture, to: (overlayDir as NSString).appendingPathComponent("\(s.name).png"))
        }
        try writer.finish()

        // 3. Metrics.
        let image = try ImageMetrics.compute(scores: scores, labels: labels)
        let pixel = try PixelMetrics.compute(pixelSamples, proMode: .mvtec)
        print("ClipAD demo: AnomalyCLIP zero-shot pipeline on \(defects.count) synthetic images (\(labels.filter { $0 }.count) defective)")
        print("  model: \(random ? "tiny random-weight CLIP (tiny-demo, seed 7) with random prompts, written to \(output)/" : detector.spec.clip ?? "")")
        print(String(format: "  image AUROC %.3f  AP %.3f | pixel AUROC %.3f  AUPRO %.3f", image.auroc, image.averagePrecision,
                     pixel.auroc, pixel.aupro ?? .nan))
        print("  wrote \(output)/scores.jsonl, \(output)/<name>.npy maps, \(output)/overlays/<name>.png (image | ground truth | anomaly map | colour bar)")
        if random {
            print("""
              NOTE: random weights give meaningless scores; this run only shows the pipeline working end to end.
              For real results pass a CLIP checkpoint and AnomalyCLIP prompts, e.g.
                clipad demo --clip ViT-L-14-336px.pt --prompts anomalyclip_epoch_15.pth --image-size 518
              """)
        }
    }
}
