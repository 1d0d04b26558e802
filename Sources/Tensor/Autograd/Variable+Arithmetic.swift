/// Elementwise arithmetic and reductions. A second operand may have the shape of the first's trailing
/// dimensions (broadcast over the leading ones); its gradient is then summed over those dimensions.
extension Variable {
    // MARK: - Binary

    public static func + (a: Variable, b: Variable) -> Variable {
        let bShape = b.shape
        return a.tape.record("add", value: a.value + b.value, inputs: [a, b]) { g, needs in
            [needs[0] ? g : nil, needs[1] ? g.reducedToTrailing(bShape) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        let bShape = b.shape
        return a.tape.record("subtract", value: a.value - b.value, inputs: [a, b]) { g, needs in
            [needs[0] ? g : nil, needs[1] ? (g * -1).reducedToTrailing(bShape) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        let av = a.value, bv = b.value
        return a.tape.record("multiply", value: av * bv, inputs: [a, b]) { g, needs in
            [needs[0] ? g * bv : nil, needs[1] ? (g * av).reducedToTrailing(bv.shape) : nil]
        }
    }

    /// Adds a constant (same shape, or broadcast over leading dimensions).
    public static func + (a: Variable, b: Tensor) -> Variable {
        a.unary("add constant", a.value + b) { $0 }
    }

    /// Multiplies by a constant tensor (same shape, or broadcast over leading dimensions).
    public static func * (a: Variable, b: Tensor) -> Variable {
        a.unary("multiply constant", a.value * b) { $0 * b }
    }

    public static func * (a: Variable, s: Float) -> Variable { a.scaled(by: s) }

    /// s · x.
    public func scaled(by s: Float) -> Variable {
        unary("scale", value * s) { $0 * s }
    }

    /// x + c for a scalar constant.
    public func adding(_ c: Float) -> Variable {
        unary("add scalar", value.map { $0 + c }) { $0 }
    }

    /// c - x for a scalar constant (e.g. 1 - p).
    public func subtracted(from c: Float) -> Variable {
        unary("subtract from scalar", value.map { c - $0 }) { $0 * -1 }
    }

    // MARK: - Unary

    /// max(0, x); the gradient at exactly 0 is 0 (as PyTorch).
    public func relu() -> Variable {
        let x = value
        return unary("relu", x.map { max($0, 0) }) { g in g.zip(x) { $1 > 0 ? $0 : 0 } }
    }

    /// Natural logarithm.
    public func log() -> Variable {
        let x = value
        return unary("log", x.map { Float(_logDouble(Double($0))) }) { g in g.zip(x) { $0 / $1 } }
    }

    /// x².
    public func squared() -> Variable {
        let x = value
        return unary("square", x * x) { g in g.zip(x) { 2 * $0 * $1 } }
    }

    // MARK: - Reductions

    /// Sum of all elements: a scalar (shape []).
    public func sum() -> Variable {
        let shape = self.shape
        var s: Double = 0
        value.withData { for v in $0 { s += Double(v) } }
        return unary("sum", Tensor(shape: [], scalars: [Float(s)])) { g in Tensor(shape: shape, repeating: g[flat: 0]) }
    }

    /// Mean of all elements: a scalar (shape []).
    public func mean() -> Variable { sum().scaled(by: 1 / Float(max(count, 1))) }

    /// Sum over the last dimension: [..., n] -> [...].
    public func sumLastDimension() -> Variable {
        let n = shape.last ?? 1, shape = self.shape
        let out = Tensor(uninitialized: Array(shape.dropLast()))
        let x = value.data, z = out.mutableData
        for r in 0..<out.count {
            var s: Float = 0
            for i in 0..<n { s += x[r * n + i] }
            z[r] = s
        }
        return unary("sum last dimension", out) { g in
            let d = Tensor(uninitialized: shape)
            let gp = g.data, dp = d.mutableData
            for r in 0..<g.count { (dp + r * n).update(repeating: gp[r], count: n) }
            return d
        }
    }

    /// Mean over the last dimension: [..., n] -> [...].
    public func meanLastDimension() -> Variable { sumLastDimension().scaled(by: 1 / Float(max(shape.last ?? 1, 1))) }
}

extension Tensor {
    /// A broadcast operand's gradient: sums over the leading dimensions when `trailing` is smaller.
    func reducedToTrailing(_ trailing: [Int]) -> Tensor {
        Tensor.count(of: trailing) == count ? reshaped(trailing) : sumLeadingDimensions(to: trailing)
    }
}
