import ArgumentParser
import CLIP
import Evaluation
import Detection
import Foundation
import ImageIO
import PromptAD
import Tensor

extension PromptADConfiguration.MemoryFeature: ExpressibleByArgument {}
extension PromptADConfiguration.ScoreScale: ExpressibleByArgument {}

/// `clipad fit --method promptad`: learn prompts and a memory bank from k normal images of one product.
/// `clipad fit --method anomalyclip`: AnomalyCLIP's prompts + a shot bank (FitCommand+AnomalyCLIP.swift).
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit PromptAD (prompts, text gallery, memory bank) or AnomalyCLIP + shots (prompts + shot bank) to a few normal images of one product -> one model file.")

    @Option(help: "Method (promptad | anomalyclip).") var method: String
    @OptionGroup var clipOptions: CLIPOptions
    @Option(name: .customLong("class-name"), help: "PromptAD: product name written into the prompts; MVTec AD / VisA folder names also select the official defect phrases.")
    var classNameOption: String?
    var className: String { classNameOption ?? "" }
    @OptionGroup var anomalyCLIP: AnomalyCLIPFitOptions
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
    @Option(parsing: .upToNextOption, help: "Held-out NORMAL images (files or folders): keep each task's epoch with the lowest loss on them (default: the last epoch).")
    var validation: [String] = []

    func validate() throws {
        if method == "anomalyclip" { return try validateAnomalyCLIP() }
        guard method == "promptad" else {
            throw ValidationError("fit supports --method promptad | anomalyclip (WinCLIP needs no fitting: pass --shots to predict)")
        }
        if classNameOption == nil { throw ValidationError("--class-name is required for --method promptad") }
        try anomalyCLIP.checkUnused(by: "promptad")
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        if shots.isEmpty { throw ValidationError("--shots needs at least one normal image") }
        if epochs < 0 { throw ValidationError("--epochs must be >= 0") }
        for p in phrases where p.components(separatedBy: "{}").count != 2 {
            throw ValidationError("--phrase '\(p)' must contain {} (where the class name goes) exactly once")
        }
    }

    func run() throws {
        if method == "anomalyclip" { return try runAnomalyCLIP() }
        let model = try clipOptions.loadModel(for: .promptad)
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
        let held = validation.isEmpty ? [] : try ImageInputs.expand(validation)
        if let overlap = held.first(where: Set(chosen).contains) {
            throw ValidationError("\(overlap) is both a shot and a validation image")
        }
        let start = Date()
        let features = try encode(chosen, label: "shot", model: model, configuration: config)
        let validationFeatures = held.isEmpty ? nil : try encode(held, label: "validation image", model: model, configuration: config)
        printError("class '\(className)': \(fitter.states.count) anomaly states; \(epochs) epoch(s) per task (classification, segmentation)")
        var bar: ProgressLine? = nil
        var firstLoss: Float = 0
        let fitted = try fitter.fit(shotFeatures: features, shots: chosen.map(ModelFilePaths.recordable),
                                    clipPath: ModelFilePaths.recordable(clipOptions.clip ?? ""), initial: initial,
                                    validation: validationFeatures) { task, epoch, loss in
            if epoch == 1 { bar = ProgressLine(total: epochs, label: "fit \(task.rawValue)"); firstLoss = loss }
            bar?.advance(note: String(format: "loss %.4f", loss))
            // Losses are measured before each step: the last value is the loss before the final update.
            if epoch == epochs { bar?.finish(String(format: "%@: loss %.4f (epoch 1) -> %.4f (epoch %d)", task.rawValue, firstLoss, loss, epochs)) }
        }
        for (task, epoch) in fitted.selectedEpochs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let held = fitted.validationLosses[task] ?? []
            printError(String(format: "%@: kept the prompts after %d step(s) (validation loss %.4f; initial %.4f, last %.4f)",
                              task.rawValue, epoch, held[epoch], held.first ?? .nan, held.last ?? .nan))
        }
        try fitted.save(path: output, extraMetadata: ["fit_seconds": String(format: "%.2f", Date().timeIntervalSince(start)),
                                                      "shot_count": "\(chosen.count)"])
        print(String(format: "wrote %@ (%d shot(s), %d epoch(s), %.1f s)", output, chosen.count, epochs, Date().timeIntervalSince(start)))
    }

    /// Features of images chosen by the user; one that cannot be read is an error (naming it), not a skip.
    func encode(_ paths: [String], label: String, model: CLIPModel, configuration config: PromptADConfiguration) throws -> PromptADImageFeatures {
        let preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        var progress = ProgressLine(total: paths.count, label: "encoding \(label)s")
        var features: [PromptADImageFeatures] = []
        for path in paths {
            let pixels = try preprocessor.preprocess(try ImageDecoder.decodeRGB(path: path))
            features.append(try PromptADImageFeatures.compute(pixels.reshaped([1, 3, config.imageSize, config.imageSize]),
                                                              model: model, configuration: config))
            progress.advance()
        }
        progress.finish("encoded \(paths.count) \(label)(s): \(paths.prefix(8).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(paths.count > 8 ? ", ..." : "")")
        return PromptADImageFeatures.concatenate(features)
    }
}
