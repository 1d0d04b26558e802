import CLIP
import Tensor

/// The differentiable path from prompt parameters to text features, used for training.
extension PromptTextEncoder {
    /// Parameters on a tape, by the names used in files and gradients.
    public struct Variables {
        public var normalContext: Variable
        public var abnormalContext: Variable
        public var deepPrompts: [Variable]

        public init(normalContext: Variable, abnormalContext: Variable, deepPrompts: [Variable]) {
            self.normalContext = normalContext
            self.abnormalContext = abnormalContext
            self.deepPrompts = deepPrompts
        }

        public init(_ p: PromptParameters, tape: Tape) {
            normalContext = tape.parameter(p.normalContext)
            abnormalContext = tape.parameter(p.abnormalContext)
            deepPrompts = p.deepPrompts.map { tape.parameter($0) }
        }

        public var named: [String: Variable] {
            var out = ["ctx_pos": normalContext, "ctx_neg": abnormalContext]
            for (i, v) in deepPrompts.enumerated() { out["deep_prompts.\(i)"] = v }
            return out
        }
    }

    /// L2-normalised text features [2, E] on the tape, equal to `textFeatures(_:)` in value.
    public func textFeatures(_ v: Variables) -> Variable {
        let tape = v.normalContext.tape
        let n = v.normalContext.shape[0], w = v.normalContext.shape[1]
        let context = Variable.concatenate([v.normalContext.reshaped([1, n, w]), v.abnormalContext.reshaped([1, n, w])], axis: 0)
        let embeddings = tape.constant(model.text.embed(ids: encodedIDs)).overwritingRows(start: 1, with: context)
        var deep: [Int: Variable] = [:]
        let depth = min(configuration.deepPromptDepth, model.text.layers)
        for layer in 1..<max(depth, 1) where layer - 1 < v.deepPrompts.count {
            deep[layer] = v.deepPrompts[layer - 1].halfPrecisionCopies(encodedIDs.count)
        }
        return model.text.forward(embeddings: embeddings, ids: encodedIDs, deepPrompts: deep, tape: tape).l2Normalized()
    }
}

extension Variable {
    /// [n, W] -> [copies, n, W], each element rounded to Float16, as the official `expand(...).half()` on the deep
    /// prompts. Backward mirrors autograd through that cast: each copy's gradient is rounded to Float16, then the
    /// copies are summed in Float32.
    func halfPrecisionCopies(_ copies: Int) -> Variable {
        let rounded = value.roundedToHalfPrecision()
        let perCopy = rounded.count
        let out = Tensor(uninitialized: [copies] + shape)
        for c in 0..<copies { (out.mutableData + c * perCopy).update(from: rounded.data, count: perCopy) }
        let shape = self.shape
        return tape.record("half-precision copies", value: out, inputs: [self]) { g, _ in
            let d = Tensor(zeros: shape)
            let dp = d.mutableData, gp = g.data
            for c in 0..<copies {
                for i in 0..<perCopy { dp[i] += Float(Float16(gp[c * perCopy + i])) }
            }
            return [d]
        }
    }
}
