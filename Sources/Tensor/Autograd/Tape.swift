/// A reverse-mode autodiff tape: ops append nodes in execution order; `backward` walks them in reverse.
///
/// Leaves are either parameters (`requiresGrad`) or constants. An op whose inputs all are constants records
/// no backward work; frozen weights (CLIP's ~100M) are passed to ops as plain `Tensor`s and never get gradients.
public final class Tape {
    /// Gradient of the node's output -> gradients of its inputs (nil where `needs[i]` is false).
    public typealias BackwardRule = (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]

    struct Node {
        let op: String
        let inputs: [Int]
        let shape: [Int]
        let rule: BackwardRule?
    }

    private(set) var nodes: [Node] = []
    private var requires: [Bool] = []

    public init() {}

    /// Number of recorded nodes (leaves included).
    public var count: Int { nodes.count }

    // MARK: - Leaves

    /// A learnable leaf: gradients flow to it.
    public func parameter(_ value: Tensor) -> Variable { leaf(value, requiresGrad: true) }

    /// A constant leaf: no gradient is ever computed for it.
    public func constant(_ value: Tensor) -> Variable { leaf(value, requiresGrad: false) }

    private func leaf(_ value: Tensor, requiresGrad: Bool) -> Variable {
        nodes.append(Node(op: requiresGrad ? "parameter" : "constant", inputs: [], shape: value.shape, rule: nil))
        requires.append(requiresGrad)
        return Variable(value: value, id: nodes.count - 1, requiresGrad: requiresGrad, tape: self)
    }

    // MARK: - Recording

    /// Records an op's result. The rule is kept only when some input requires a gradient; pass `rule: nil`
    /// for ops without one (a gradient reaching them is an error in `backward`).
    public func record(_ op: String, value: Tensor, inputs: [Variable], rule: BackwardRule?) -> Variable {
        for v in inputs { precondition(v.tape === self, AutogradError.foreignVariable(op: op).description) }
        let needs = inputs.contains { $0.requiresGrad }
        nodes.append(Node(op: op, inputs: inputs.map(\.id), shape: value.shape, rule: needs ? rule : nil))
        requires.append(needs)
        return Variable(value: value, id: nodes.count - 1, requiresGrad: needs, tape: self)
    }

    // MARK: - Backward

    /// Gradients of `result` with respect to every node that requires one, keyed by variable id.
    /// A scalar (one-element) result is seeded with 1; otherwise pass `seed` of the result's shape.
    public func backward(_ result: Variable, seed: Tensor? = nil) throws -> Gradients {
        let start: Tensor
        if let seed {
            guard seed.count == result.value.count else { throw AutogradError.seedShape(got: seed.shape, expected: result.value.shape) }
            start = seed.reshaped(result.value.shape)
        } else {
            guard result.value.count == 1 else { throw AutogradError.nonScalarLoss(shape: result.value.shape) }
            start = Tensor(shape: result.value.shape, repeating: 1)
        }
        var grads: [Int: Tensor] = [:]
        guard result.requiresGrad else { return Gradients(storage: grads) }
        grads[result.id] = start
        for id in stride(from: result.id, through: 0, by: -1) {
            let node = nodes[id]
            guard !node.inputs.isEmpty, let grad = grads[id] else { continue }
            guard let rule = node.rule else { throw AutogradError.missingBackwardRule(op: node.op) }
            let needs = node.inputs.map { requires[$0] }
            let inputGrads = rule(grad, needs)
            // Intermediate gradients are dropped once used; leaves keep theirs.
            grads[id] = nil
            for (slot, input) in node.inputs.enumerated() where needs[slot] {
                guard slot < inputGrads.count, let g = inputGrads[slot] else {
                    throw AutogradError.missingBackwardRule(op: "\(node.op) (input \(slot))")
                }
                let expected = nodes[input].shape
                guard g.count == Tensor.count(of: expected) else {
                    throw AutogradError.gradientShape(op: node.op, input: slot, got: g.shape, expected: expected)
                }
                if var existing = grads[input] {
                    grads[input] = nil  // keep `existing` uniquely referenced so the add is in place
                    existing.add(g)
                    grads[input] = existing
                } else {
                    grads[input] = g.shape == expected ? g : g.reshaped(expected)
                }
            }
        }
        return Gradients(storage: grads)
    }
}

/// Gradients from `Tape.backward`, looked up by variable.
public struct Gradients {
    public let storage: [Int: Tensor]

    /// The gradient of `v` (nil when no gradient reached it).
    public subscript(_ v: Variable) -> Tensor? { storage[v.id] }

    /// Gradients of named parameters, zero-filled where none reached them (for optimisers).
    public func named(_ parameters: [String: Variable]) -> [String: Tensor] {
        parameters.mapValues { storage[$0.id] ?? Tensor(zeros: $0.value.shape) }
    }
}
