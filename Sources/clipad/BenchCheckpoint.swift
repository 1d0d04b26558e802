import ArgumentParser
import CLIP
import Detection
import Foundation

/// `clipad bench checkpoint`: the random-weight model files the benches build in memory, written out for harnesses
/// that need files (benchmarks/serve_load.sh serves a real architecture from them). Never a trained model.
struct BenchCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write a bundled architecture with random weights (clip.safetensors) and random AnomalyCLIP prompts (prompts.safetensors) for load tests.")

    @Option(help: "Bundled architecture: \(CLIPArchitecture.bundledNames.joined(separator: ", ")).") var arch: String = "ViT-B-16"
    @Option(help: "Output folder (created).") var output: String
    @Option(help: "Seed of the random weights and prompts.") var seed: UInt64 = 1

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let clip = (output as NSString).appendingPathComponent("clip.safetensors")
        let promptsPath = (output as NSString).appendingPathComponent("prompts.safetensors")
        let config = try RandomModelFiles.write(architecture: arch, weightSeed: seed, promptSeed: seed &+ 1, clip: clip, prompts: promptsPath)
        print("wrote \(clip) and \(promptsPath) (\(arch), random weights, AnomalyCLIP @\(config.imageSize), layers \(config.featureLayers), DPAM \(config.dpamBlocks) blocks)")
    }
}
