import CLIP
import Foundation
import Tensor

/// Fits PromptAD to k normal images of one product (the official `fit` of train_cls.py and train_seg.py, both
/// tasks): memory banks from the shots first, then for each prompt learner SGD (momentum, weight decay) with cosine
/// annealing, one step per epoch on all shots at once. Image features are computed once: the tower is frozen and
/// deterministic, so re-encoding every epoch (as the official loop does) gives the same numbers.
///
/// No test labels are looked at: training runs a fixed number of epochs (the official scripts instead keep the epoch
/// with the best TEST AUROC). With held-out normal images (`validation`), the prompts kept are those of the epoch
/// whose loss on them is lowest — a choice made from normal images only.
public struct PromptADFitter {
    public let model: CLIPModel
    public let configuration: PromptADConfiguration
    public let className: String
    public let states: [String]
    public let tokenizer: CLIPTokenizer

    public init(model: CLIPModel, configuration: PromptADConfiguration, className: String, extraStates: [String] = [],
                tokenizer: CLIPTokenizer) throws {
        try configuration.validate(for: model)
        guard model.text.outputDim == model.vision.outputDim else {
            throw PromptADError.badConfiguration("text and vision embeddings differ (\(model.text.outputDim) vs \(model.vision.outputDim))")
        }
        self.model = model
        self.configuration = configuration
        self.className = className
        states = AnomalyPhrases.states(forClass: className, extra: extraStates)
        self.tokenizer = tokenizer
    }

    /// The raw logit scale of the checkpoint (ln 100 when it has none, as the LAION checkpoints store).
    public var logitScale: Float { model.logitScale ?? Float(Foundation.log(100.0)) }

    /// The prompt learner of a task.
    public func prompts(for task: PromptADLoss.Task) throws -> SemanticPrompts {
        try SemanticPrompts(className: className, states: states,
                            normalPrompts: task == .classification ? configuration.classificationNormalPrompts : configuration.segmentationNormalPrompts,
                            configuration: configuration, tokenizer: tokenizer, text: model.text)
    }

    /// Progress callback: (task, epoch (1-based), loss before that epoch's step).
    public typealias Progress = (PromptADLoss.Task, Int, Float) -> Void

    /// - shotFeatures: features of the k normal images (`PromptADImageFeatures.compute`).
    /// - initial: starting contexts by task (e.g. from the official code); random (seeded) otherwise.
    /// - validation: features of held-out normal images for choosing the epoch (none: the last epoch).
    public func fit(shotFeatures f: PromptADImageFeatures, shots: [String], clipPath: String,
                    initial: [PromptADLoss.Task: PromptContext] = [:], validation: PromptADImageFeatures? = nil,
                    progress: Progress? = nil) throws -> PromptADModel {
        guard f.global.shape[0] > 0 else { throw PromptADError.noShots }
        let banks = f.memory.map { m in m.reshaped([m.count / m.shape[2], m.shape[2]]) }
        var contexts: [PromptADLoss.Task: PromptContext] = [:], galleries: [PromptADLoss.Task: Tensor] = [:]
        var losses: [PromptADLoss.Task: [Float]] = [:], validationLosses: [PromptADLoss.Task: [Float]] = [:]
        var selected: [PromptADLoss.Task: Int] = [:]
        for (index, task) in PromptADLoss.Task.allCases.enumerated() {
            let prompts = try self.prompts(for: task)
            var context = initial[task] ?? .random(normalPrompts: prompts.normalPrompts, configuration: configuration,
                                                    width: model.text.width, seed: configuration.seed &+ UInt64(index))
            guard context.normalPrompts == prompts.normalPrompts else {
                throw PromptADError.badConfiguration("the \(task.rawValue) prompts have \(context.normalPrompts) normal prompts, expected \(prompts.normalPrompts)")
            }
            let features = task == .classification ? f.global : f.tokens
            let held = validation.map { task == .classification ? $0.global : $0.tokens }
            let run = try train(&context, prompts: prompts, task: task, features: features, validation: held) { progress?(task, $0, $1) }
            losses[task] = run.losses
            if let v = run.validationLosses { validationLosses[task] = v; selected[task] = run.selectedEpoch }
            contexts[task] = context
            galleries[task] = prompts.gallery(context, text: model.text)
        }
        var fitted = PromptADModel(configuration: configuration, className: className, states: states, contexts: contexts,
                                   galleries: galleries, memoryBanks: banks, logitScale: logitScale, shots: shots,
                                   clipPath: clipPath, activation: model.activation.rawValue, losses: losses)
        fitted.validationLosses = validationLosses
        fitted.selectedEpochs = selected
        return fitted
    }

    /// What one evaluation of the objective gives.
    public struct Step {
        public var parts: PromptADLoss.Parts
        public var normalGradient: Tensor
        public var anomalyGradient: Tensor
        /// The same loss on held-out normal images, when given (no gradient).
        public var validationLoss: Float?
    }

    /// The loss and its gradients for one task at `context` (one tape; the text features are shared with the
    /// validation loss).
    public func lossAndGradients(_ context: PromptContext, prompts: SemanticPrompts, task: PromptADLoss.Task,
                                 features: Tensor, validation: Tensor? = nil) throws -> Step {
        let tape = Tape()
        let normal = tape.parameter(context.normal), anomaly = tape.parameter(context.anomaly)
        let text = prompts.features(normal: normal, anomaly: anomaly, text: model.text)
        let parts = PromptADLoss.compute(task: task, features: features, text: text, logitScale: logitScale,
                                         matchWeight: configuration.matchWeight)
        let held = validation.map {
            PromptADLoss.compute(task: task, features: $0, text: text, logitScale: logitScale,
                                 matchWeight: configuration.matchWeight).total.value[flat: 0]
        }
        let grads = try tape.backward(parts.total)
        return Step(parts: parts, normalGradient: grads[normal] ?? Tensor(zeros: context.normal.shape),
                    anomalyGradient: grads[anomaly] ?? Tensor(zeros: context.anomaly.shape), validationLoss: held)
    }

    struct Run {
        var losses: [Float]
        /// Validation loss of the prompts before each step and after the last (epochs + 1 values).
        var validationLosses: [Float]?
        /// Steps taken by the kept prompts (0 = the initial prompts).
        var selectedEpoch: Int
    }

    /// SGD + cosine annealing (torch CosineAnnealingLR stepped once per epoch), one step per epoch.
    func train(_ context: inout PromptContext, prompts: SemanticPrompts, task: PromptADLoss.Task, features: Tensor,
               validation: Tensor?, progress: (Int, Float) -> Void) throws -> Run {
        guard configuration.epochs > 0 else { return Run(losses: [], validationLosses: nil, selectedEpoch: 0) }
        var sgd = SGD(learningRate: configuration.learningRate, momentum: configuration.momentum, weightDecay: configuration.weightDecay)
        let schedule = CosineSchedule(initial: configuration.learningRate, minimum: configuration.minimumLearningRate,
                                      period: configuration.epochs)
        var losses: [Float] = [], held: [Float] = []
        var best = (loss: Float.infinity, epoch: 0, context: context)
        for epoch in 0..<configuration.epochs {
            let step = try lossAndGradients(context, prompts: prompts, task: task, features: features, validation: validation)
            let loss = step.parts.total.value[flat: 0]
            losses.append(loss)
            if let v = step.validationLoss {
                held.append(v)
                if v < best.loss { best = (v, epoch, context) }
            }
            sgd.learningRate = schedule.learningRate(at: epoch)
            var parameters = ["normal_ctx": context.normal, "abnormal_ctx": context.anomaly]
            sgd.step(&parameters, gradients: ["normal_ctx": step.normalGradient, "abnormal_ctx": step.anomalyGradient])
            context = PromptContext(normal: parameters["normal_ctx"]!, anomaly: parameters["abnormal_ctx"]!)
            progress(epoch + 1, loss)
        }
        guard let validation else { return Run(losses: losses, validationLosses: nil, selectedEpoch: configuration.epochs) }
        let last = try lossAndGradients(context, prompts: prompts, task: task, features: features, validation: validation).validationLoss!
        held.append(last)
        if last < best.loss { best = (last, configuration.epochs, context) }
        context = best.context
        return Run(losses: losses, validationLosses: held, selectedEpoch: best.epoch)
    }
}
