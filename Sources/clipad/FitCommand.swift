import ArgumentParser
import Evaluation
import Detection
import Foundation
import PromptAD

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
    @Option(help: "Epochs (one SGD step each; 0 = no prompt learning, gallery and memory bank only; default 100, PromptADConfiguration's).") var epochs: Int?
    @Option(name: .customLong("prompt-init"), parsing: .upToNextOption,
            help: "torch.save'd official PromptLearner state dict(s) (normal_ctx, abnormal_ctx): n_pro 3 -> classification, 1 -> segmentation.")
    var promptInit: [String] = []
    @Option(name: .customLong("defect-words"), help: "Comma-separated defect words, extra anomalous prompts recorded in the model ('crack' -> 'crack {}').")
    var defectWords: String?
    @Option(name: .customLong("phrase"), help: "One defect description (repeatable), {} at most once where the product goes (PromptAD: the class name; AnomalyCLIP: 'object'), e.g. '{} with a dent'.")
    var phrases: [String] = []
    @Option(name: .customLong("phrases-file"), help: "File of defect descriptions, one per line (# comments), as --phrase.") var phrasesFile: String?
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
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be >= 0") }
        for p in phrases { do { _ = try DefectPhrases.template(p) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        if method == "anomalyclip" { return try runAnomalyCLIP() }
        var spec = DetectorSpec(method: .promptad)
        spec.clip = clipOptions.clip
        spec.activation = clipOptions.activation?.rawValue
        spec.className = className
        spec.imageSize = imageSize
        spec.phrases = try DefectPhrases.combine(words: defectWords, phrases: phrases, file: phrasesFile)
        let chosen = try ShotSelection.choose(from: try ImageInputs.expand(shots), count: shotCount, seed: seed)
        var request = ShotFitting.Request(spec: spec, shots: chosen, seed: seed)
        if let epochs { request.promptAD.configuration.epochs = epochs }
        let epochCount = request.promptAD.configuration.epochs
        request.promptAD.configuration.memoryFeature = memoryFeature
        request.promptAD.configuration.scoreScale = scoreScale
        request.promptAD.promptInit = promptInit
        request.promptAD.validation = validation.isEmpty ? [] : try ImageInputs.expand(validation)

        printError("class '\(className)': \(epochCount) epoch(s) per task (classification, segmentation)")
        var bar: ProgressLine? = nil
        var firstLoss: Float = 0
        let fitted = try ShotFitting.fit(request, options: DetectorFactory.Options(notice: printError)) { event in
            switch event {
            case let .encoded(label, done, total):
                if done == 1 { bar = ProgressLine(total: total, label: "encoding \(label)s") }
                bar?.advance()
                if done == total { bar?.finish("encoded \(total) \(label)(s)") }
            case let .epoch(task, epoch, of, loss):
                if epoch == 1 { bar = ProgressLine(total: of, label: "fit \(task)"); firstLoss = loss }
                bar?.advance(note: String(format: "loss %.4f", loss))
                // Losses are measured before each step: the last value is the loss before the final update.
                if epoch == of { bar?.finish(String(format: "%@: loss %.4f (epoch 1) -> %.4f (epoch %d)", task, firstLoss, loss, of)) }
            }
        }
        printError("shots: \(chosen.prefix(8).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(chosen.count > 8 ? ", ..." : "")")
        if let model = fitted.promptAD {
            for (task, epoch) in model.selectedEpochs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let held = model.validationLosses[task] ?? []
                printError(String(format: "%@: kept the prompts after %d step(s) (validation loss %.4f; initial %.4f, last %.4f)",
                                  task.rawValue, epoch, held[epoch], held.first ?? .nan, held.last ?? .nan))
            }
        }
        try fitted.save(to: output)
        print(String(format: "wrote %@ (%d shot(s), %d epoch(s), %.1f s)", output, chosen.count, epochCount, fitted.seconds))
    }
}
