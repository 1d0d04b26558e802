import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor

extension PromptADConfiguration.MemoryFeature: ExpressibleByArgument {}
extension PromptADConfiguration.ScoreScale: ExpressibleByArgument {}

/// `clipad fit --method promptad`: learn prompts and a memory bank from k normal images of one product.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit PromptAD to a few normal images of one product (prompts, text gallery, memory bank) -> one model file.")

    @Option(help: "Method (promptad).") var method: String
    @OptionGroup var clipOptions: CLIPOptions
    @Option(name: .customLong("class-name"), help: "Product name written into the prompts; MVTec AD / VisA folder names also select the official defect phrases.")
    var className: String
    @Option(parsing: .upToNextOption, help: "Normal images (files or folders): the shots.") var shots: [String]
    @Option(name: .customLong("shot-count"), help: "Draw this many shots from --shots by seeded sampling (default: use all).")
    var shotCount: Int?
    @Option(help: "Seed for shot sampling and prompt initialisation.") var seed: UInt64 = 111
    @Option(help: "Output model file (.safetensors).") var output: String
    @Option(help: "Epochs (one SGD step each; 0 = no prompt learning, gallery and memory bank only).") var epochs: Int = 100
    @Option(name: .customLong("prompt-init"), parsing: .upToNextOption,
            help: "torch.save'd official PromptLearner state dict(s) (normal_ctx, abnormal_ctx): n_pro 3 -> classification, 1 -> segmentation.")
    var promptInit: [String] = []
    @Option(name: .customLong("phrase"), help: "Extra anomaly phrase with {} for the class name (repeatable), e.g. '{} with a dent'.")
    var phrases: [String] = []
    @Option(name: .customLong("phrases-file"), help: "File of extra anomaly phrases, one per line ({} = class name).") var phrasesFile: String?
    @Option(name: .customLong("memory-feature"), help: "Memory-bank features: official (next block's post-attention state, as the official hooks end up storing) | block-output.")
    var memoryFeature: PromptADConfiguration.MemoryFeature = .official
    @Option(name: .customLong("score-scale"), help: "Textual score scale: raw (official: the raw logit_scale) | exp (exp(logit_scale)).")
    var scoreScale: PromptADConfiguration.ScoreScale = .rawLogitScale
    @Option(name: .customLong("image-size"), help: "Square input side (default: the checkpoint's native size).") var imageSize: Int?

    func validate() throws {
        guard method == "promptad" else {
            throw ValidationError("fit supports --method promptad (AnomalyCLIP trains with `clipad train`; WinCLIP needs no fitting: pass --shots to predict)")
        }
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        if shots.isEmpty { throw ValidationError("--shots needs at least one normal image") }
        if epochs < 0 { throw ValidationError("--epochs must be >= 0") }
        for p in phrases where p.components(separatedBy: "{}").count != 2 {
            throw ValidationError("--phrase '\(p)' must contain {} (where the class name goes) exactly once")
        }
    }

    func run() throws {
        let model = try PromptADOptions.loadCLIP(clipOptions)
        var config = PromptADConfiguration()
        config.epochs = epochs
        config.seed = seed
        config.memoryFeature = memoryFeature
        config.scoreScale = scoreScale
        config.imageSize = imageSize ?? model.vision.nativeImageSize
        var extra = phrases
        if let phrasesFile {
            guard let text = try? String(contentsOfFile: phrasesFile, encoding: .utf8) else {
                throw ValidationError("\(phrasesFile): cannot read the phrases file")
            }
            for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
                guard line.components(separatedBy: "{}").count == 2 else {
                    throw ValidationError("\(phrasesFile): phrase '\(line)' must contain {} exactly once")
                }
                extra.append(line)
            }
        }
        let fitter = try PromptADFitter(model: model, configuration: config, className: className, extraStates: extra,
                                        tokenizer: try CLIPTokenizer.shared())
        var initial: [PromptADLoss.Task: PromptContext] = [:]
        for path in promptInit {
            let context = try PromptContext.load(path: path, configuration: config, width: model.text.width)
            let task: PromptADLoss.Task
            switch context.normalPrompts {
            case config.classificationNormalPrompts: task = .classification
            case config.segmentationNormalPrompts: task = .segmentation
            default:
                throw ValidationError("\(path): normal_ctx has \(context.normalPrompts) prompts; expected \(config.classificationNormalPrompts) (classification) or \(config.segmentationNormalPrompts) (segmentation)")
            }
            if initial[task] != nil { throw ValidationError("two --prompt-init files for the \(task.rawValue) prompts") }
            initial[task] = context
        }

        let chosen = try ShotSelection.choose(from: try ImageInputs.expand(shots), count: shotCount, seed: seed)
        let preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        var features: [PromptADImageFeatures] = []
        var encoding = ProgressLine(total: chosen.count, label: "encoding shots")
        let start = Date()
        for path in chosen {
            // A shot that cannot be read is an error, not a skip: the user chose these images.
            let pixels = preprocessor.tensor(from: try ImageDecoder.decodeRGB(path: path))
            features.append(try PromptADImageFeatures.compute(pixels.reshaped([1, 3, config.imageSize, config.imageSize]),
                                                              model: model, configuration: config))
            encoding.advance()
        }
        encoding.finish("encoded \(chosen.count) shot(s): \(chosen.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))")
        printError("class '\(className)': \(fitter.states.count) anomaly states; \(epochs) epoch(s) per task (classification, segmentation)")
        var bar: ProgressLine? = nil
        var firstLoss: Float = 0
        let fitted = try fitter.fit(shotFeatures: PromptADImageFeatures.concatenate(features), shots: chosen,
                                    clipPath: clipOptions.clip ?? "", initial: initial) { task, epoch, loss in
            if epoch == 1 { bar = ProgressLine(total: epochs, label: "fit \(task.rawValue)"); firstLoss = loss }
            bar?.advance(note: String(format: "loss %.4f", loss))
            // Losses are measured before each step: the last value is the loss before the final update.
            if epoch == epochs { bar?.finish(String(format: "%@: loss %.4f (epoch 1) -> %.4f (epoch %d)", task.rawValue, firstLoss, loss, epochs)) }
        }
        try fitted.save(path: output, extraMetadata: ["fit_seconds": String(format: "%.2f", Date().timeIntervalSince(start)),
                                                      "shot_count": "\(chosen.count)"])
        print(String(format: "wrote %@ (%d shot(s), %d epoch(s), %.1f s)", output, chosen.count, epochs, Date().timeIntervalSince(start)))
    }
}
