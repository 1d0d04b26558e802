/// A tensor recorded on a `Tape`: its value, its node id, and whether gradients flow to it.
public struct Variable {
    public let value: Tensor
    public let id: Int
    public let requiresGrad: Bool
    public let tape: Tape

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    public var count: Int { value.count }
    public func size(_ i: Int) -> Int { value.size(i) }

    /// Records a unary op with `rule` mapping the output gradient to this variable's gradient.
    func unary(_ op: String, _ value: Tensor, _ rule: @escaping (Tensor) -> Tensor) -> Variable {
        tape.record(op, value: value, inputs: [self]) { g, _ in [rule(g)] }
    }
}
