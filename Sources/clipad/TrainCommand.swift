import AnomalyCLIP
import ArgumentParser
import CLIP
import Checkpoint
import Evaluation
import Detection
import Foundation
import Tensor

/// `clipad train --method anomalyclip`: learn object-agnostic prompts on an auxiliary labelled dataset.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train AnomalyCLIP prompts on a labelled auxiliary dataset (test split with masks, all classes).")

    @Option(help: "Method (anomalyclip).") var method: String = "anomalyclip"
    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Dataset root.") var data: String
    @Option(help: "Layout: \(DatasetLayout.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: String
    @Option(help: "Comma-separated classes to use (default: all).") var classes: String?
    @Option(help: "Output prompt file (ClipAD safetensors); rewritten after every epoch.") var output: String
    @Option(help: "Epochs.") var epochs: Int = 15
    @Option(name: .customLong("batch-size"), help: "Images per step.") var batchSize: Int = 8
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Random seed (prompt initialisation and shuffling).") var seed: UInt64 = 111
    @Option(name: .customLong("image-size"), help: "Square input side (default per backbone: 518 for ViT-L/14).") var imageSize: Int?
    @Option(help: "Comma-separated 1-based vision layers for the local loss (default per backbone: 24 for ViT-L/14).") var layers: String?
    @Option(name: .customLong("dpam-blocks"), help: "Final vision blocks running DPAM (default per backbone: 19 for ViT-L/14).") var dpamBlocks: Int?
    @Option(help: "Feature cache folder (default: <output>.cache).") var cache: String?
    @Option(name: .customLong("cache-dtype"), help: "Cached feature storage: f16 or f32.") var cacheDType: String = "f16"
    @Flag(help: "Continue from the checkpoint at --output if it exists.") var resume = false

    func validate() throws {
        guard method == "anomalyclip" else { throw ValidationError("train supports --method anomalyclip (PromptAD uses `clipad fit`)") }
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        if epochs < 1 || batchSize < 1 { throw ValidationError("--epochs and --batch-size must be positive") }
        if cacheDType != "f16" && cacheDType != "f32" { throw ValidationError("--cache-dtype is f16 or f32") }
        _ = try DatasetLayout(name: dataset)
    }

    func run() throws {
        let model = try clipOptions.loadModel(for: .anomalyclip)
        let config = AnomalyCLIPTraining.configuration(
            model: model, imageSize: imageSize,
            featureLayers: try layers.map {
                guard let parsed = MethodOptions.parseLayers($0) else { throw ValidationError("--layers must be comma-separated positive integers, got '\($0)'") }
                return parsed
            },
            dpamBlocks: dpamBlocks)
        let examples = try AnomalyCLIPTraining.examples(layout: try DatasetLayout(name: dataset), root: data,
                                                       classes: classes.map { $0.split(separator: ",").map(String.init) })
        var options = AnomalyCLIPTrainer.Options()
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = lr
        options.seed = seed
        let trainer = try AnomalyCLIPTrainer(model: model, configuration: config, options: options,
                                             cacheDirectory: cache ?? output + ".cache", tokenizer: try CLIPTokenizer.shared(),
                                             cacheStorage: cacheDType == "f16" ? .float16 : .float32)
        let initial = PromptParameters.random(width: model.text.width, configuration: config, seed: seed)
        printError("training AnomalyCLIP prompts on \(examples.count) images (\(examples.filter(\.label).count) anomalous), \(epochs) epochs")
        var caching = ProgressLine(total: examples.count, label: "caching features")
        var bar: ProgressLine? = nil
        _ = try trainer.train(examples, initial: initial, checkpointPath: output, resume: resume) { event in
            switch event {
            case .caching(let done, let total):
                caching.advance()
                if done == total { caching.finish("cached features of \(total) image(s)") }
            case .skipped(let path, let error):
                caching.interrupt("skipped \(path): \(error)")
            case .step(let epoch, let step, let steps, let loss):
                if step == 1 { bar = ProgressLine(total: steps, label: "epoch \(epoch)/\(epochs)") }
                bar?.advance(note: String(format: "loss %.4f", loss))
            case .epochFinished(let epoch, let meanLoss, let checkpoint):
                bar?.finish(String(format: "epoch %d/%d  mean loss %.4f  -> %@", epoch, epochs, meanLoss, checkpoint))
            }
        }
    }
}
