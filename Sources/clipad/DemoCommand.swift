import ArgumentParser
import Detection
import Evaluation
import Foundation

/// `clipad demo`: synthetic defect images through the zero-shot AnomalyCLIP pipeline, end to end (`SyntheticDemo`).
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
        // The detector, built like every other run: a spec -> the Detection factory. Without --clip the demo writes a
        // tiny random-weight CLIP and random prompts into the output folder and uses those files.
        let random = clipOptions.clip == nil
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var spec = DetectorSpec(method: .anomalyclip)
        spec.clip = clipOptions.clip
        spec.activation = clipOptions.activation?.rawValue
        spec.prompts = prompts
        spec.imageSize = imageSize
        if random {
            spec.clip = (output as NSString).appendingPathComponent("tiny-demo-clip.safetensors")
            spec.prompts = (output as NSString).appendingPathComponent("random-prompts.safetensors")
            try RandomModelFiles.write(architecture: "tiny-demo", weightSeed: 7, promptSeed: 11, clip: spec.clip!, prompts: spec.prompts!)
        } else if prompts == nil {
            throw ValidationError("--prompts PATH is required with --clip (the learned AnomalyCLIP prompts)")
        }
        let (detector, _) = try DetectorFactory.make(spec, options: .init(notice: printError))
        let r = try SyntheticDemo.run(detector: detector, output: output, colorScale: colorScale)

        print("ClipAD demo: AnomalyCLIP zero-shot pipeline on \(r.images) synthetic images (\(r.defective) defective)")
        print("  model: \(random ? "tiny random-weight CLIP (tiny-demo, seed 7) with random prompts, written to \(output)/" : detector.spec.clip ?? "")")
        print(String(format: "  image AUROC %.3f  AP %.3f | pixel AUROC %.3f  AUPRO %.3f", r.image.auroc, r.image.averagePrecision,
                     r.pixel.auroc, r.pixel.aupro ?? .nan))
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
