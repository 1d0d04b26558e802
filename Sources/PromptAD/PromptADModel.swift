import Checkpoint
import Foundation
import Tensor

/// A fitted PromptAD model for one product: the two prompt learners (classification and segmentation), their
/// text galleries, the two visual memory banks, and how it was made. Stored as one safetensors file whose JSON
/// metadata records the configuration, class, phrases, shots and CLIP checkpoint.
public struct PromptADModel: Sendable {
    public var configuration: PromptADConfiguration
    public var className: String
    /// Anomaly states used by the manual prompts ({} = class name).
    public var states: [String]
    /// Prompt contexts by task.
    public var contexts: [PromptADLoss.Task: PromptContext]
    /// Text galleries [2, E] (normal, anomaly) by task.
    public var galleries: [PromptADLoss.Task: Tensor]
    /// Memory banks [k·P, W], one per memory layer.
    public var memoryBanks: [Tensor]
    /// The raw `logit_scale` of the CLIP checkpoint.
    public var logitScale: Float
    /// Paths of the normal images the memory bank (and prompts) came from, in order.
    public var shots: [String]
    /// The CLIP checkpoint the model was fitted with.
    public var clipPath: String
    public var activation: String
    /// Loss per epoch and task (empty with --epochs 0).
    public var losses: [PromptADLoss.Task: [Float]]
    /// Loss on held-out normal images before each step and after the last, when fitting was validated.
    public var validationLosses: [PromptADLoss.Task: [Float]] = [:]
    /// Steps taken by the kept prompts per task, when fitting was validated (else all epochs).
    public var selectedEpochs: [PromptADLoss.Task: Int] = [:]

    public init(configuration: PromptADConfiguration, className: String, states: [String],
                contexts: [PromptADLoss.Task: PromptContext], galleries: [PromptADLoss.Task: Tensor],
                memoryBanks: [Tensor], logitScale: Float, shots: [String], clipPath: String, activation: String,
                losses: [PromptADLoss.Task: [Float]]) {
        self.configuration = configuration
        self.className = className
        self.states = states
        self.contexts = contexts
        self.galleries = galleries
        self.memoryBanks = memoryBanks
        self.logitScale = logitScale
        self.shots = shots
        self.clipPath = clipPath
        self.activation = activation
        self.losses = losses
    }

    /// The scale applied to cosines in the textual scores.
    public var scoreScale: Float {
        configuration.scoreScale == .rawLogitScale ? logitScale : Float(Foundation.exp(Double(logitScale)))
    }

    // MARK: - File

    static let format = "clipad-promptad-1"

    /// Writes the model atomically.
    public func save(path: String, extraMetadata: [String: String] = [:]) throws {
        var tensors: [String: Tensor] = [:]
        for task in PromptADLoss.Task.allCases {
            if let c = contexts[task] {
                tensors["\(task.rawValue).normal_ctx"] = c.normal
                tensors["\(task.rawValue).abnormal_ctx"] = c.anomaly
            }
            if let g = galleries[task] { tensors["\(task.rawValue).text_features"] = g }
        }
        for (i, bank) in memoryBanks.enumerated() { tensors["feature_gallery\(i + 1)"] = bank }
        var meta = extraMetadata
        meta["format"] = Self.format
        meta["method"] = "promptad"
        meta["configuration"] = configuration.json
        meta["class_name"] = className
        meta["states"] = Self.json(states)
        meta["shots"] = Self.json(shots)
        meta["clip"] = clipPath
        meta["activation"] = activation
        meta["logit_scale"] = "\(logitScale)"
        meta["losses"] = Self.json(Dictionary(uniqueKeysWithValues: losses.map { ($0.key.rawValue, $0.value) }))
        if !validationLosses.isEmpty {
            meta["validation_losses"] = Self.json(Dictionary(uniqueKeysWithValues: validationLosses.map { ($0.key.rawValue, $0.value) }))
            meta["selected_epochs"] = Self.json(Dictionary(uniqueKeysWithValues: selectedEpochs.map { ($0.key.rawValue, $0.value) }))
        }
        try SafetensorsWriter.write(tensors, metadata: meta, to: path)
    }

    /// Reads a model file written by `save`, checking every tensor it needs.
    public static func load(path: String) throws -> (PromptADModel, metadata: [String: String]) {
        let checkpoint = try Checkpoint.load(path: path)
        let meta = checkpoint.metadata
        func bad(_ reason: String) -> PromptADError { .badModelFile(file: path, reason: reason) }
        guard meta["format"] == format else {
            throw bad("not a ClipAD PromptAD model (metadata format is \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)'; make one with `clipad fit --method promptad`)")
        }
        func tensor(_ key: String) throws -> Tensor {
            guard checkpoint.tensors[key] != nil else { throw bad("missing tensor '\(key)'") }
            return try checkpoint.tensor(key)
        }
        guard let configJSON = meta["configuration"], let configuration = try? PromptADConfiguration.fromJSON(configJSON) else {
            throw bad("unreadable 'configuration' metadata")
        }
        do { try configuration.validate(source: "metadata 'configuration'") } catch PromptADError.badConfiguration(let reason) {
            throw bad(reason)
        }
        var contexts: [PromptADLoss.Task: PromptContext] = [:], galleries: [PromptADLoss.Task: Tensor] = [:]
        for task in PromptADLoss.Task.allCases {
            let g = try tensor("\(task.rawValue).text_features")
            guard g.rank == 2, g.shape[0] == 2, g.shape[1] >= 1 else { throw bad("'\(task.rawValue).text_features' is \(g.shape), expected [2, E]") }
            galleries[task] = g
            if checkpoint.tensors["\(task.rawValue).normal_ctx"] != nil {
                let normal = try tensor("\(task.rawValue).normal_ctx"), anomaly = try tensor("\(task.rawValue).abnormal_ctx")
                let width = g.shape[1] >= 1 ? normal.shape.last ?? 0 : 0
                guard normal.rank == 3, normal.shape[0] >= 1, normal.shape[1] == configuration.normalContextTokens, width >= 1 else {
                    throw bad("'\(task.rawValue).normal_ctx' has shape \(normal.shape), expected [n_pro, \(configuration.normalContextTokens), D]")
                }
                let expected = [configuration.learnedAnomalyPrompts, configuration.anomalyContextTokens, width]
                guard anomaly.shape == expected else {
                    throw bad("'\(task.rawValue).abnormal_ctx' has shape \(anomaly.shape), expected \(expected)")
                }
                contexts[task] = PromptContext(normal: normal, anomaly: anomaly)
            }
        }
        guard galleries[.classification]!.shape == galleries[.segmentation]!.shape else {
            throw bad("the two text galleries differ in shape")
        }
        let banks = try configuration.memoryLayers.indices.map { try tensor("feature_gallery\($0 + 1)") }
        guard let first = banks.first, banks.allSatisfy({ $0.rank == 2 && $0.shape == first.shape && $0.shape[0] > 0 }) else {
            throw bad("memory banks must be non-empty [k·P, W] tensors of one shape")
        }
        guard let scale = meta["logit_scale"].flatMap(Float.init) else { throw bad("missing 'logit_scale' metadata") }
        // The score scale is exp(logit_scale) or logit_scale itself: finite, and exp must not overflow.
        guard scale.isFinite, abs(scale) <= 80 else {
            throw bad("metadata 'logit_scale' is \(scale), expected a finite value in -80...80")
        }
        for bank in banks where !(bank.rank == 2 && bank.shape[1] >= 1) {
            throw bad("memory bank has shape \(bank.shape), expected [k·P, W]")
        }
        let losses = (decode(meta["losses"]) as [String: [Float]]?) ?? [:]
        let model = PromptADModel(
            configuration: configuration, className: meta["class_name"] ?? "", states: decode(meta["states"]) ?? [],
            contexts: contexts, galleries: galleries, memoryBanks: banks, logitScale: scale,
            shots: decode(meta["shots"]) ?? [], clipPath: meta["clip"] ?? "", activation: meta["activation"] ?? "",
            losses: byTask(losses))
        var result = model
        result.validationLosses = byTask(decode(meta["validation_losses"]) ?? [:])
        result.selectedEpochs = byTask(decode(meta["selected_epochs"]) ?? [:])
        return (result, meta)
    }

    static func byTask<V>(_ d: [String: V]) -> [PromptADLoss.Task: V] {
        Dictionary(uniqueKeysWithValues: d.compactMap { k, v in PromptADLoss.Task(rawValue: k).map { ($0, v) } })
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "null"
    }

    static func decode<T: Decodable>(_ s: String?) -> T? {
        s.flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }
}
