/// Errors of the reverse-mode tape.
public enum AutogradError: Error, CustomStringConvertible, Equatable {
    /// A gradient reached an op recorded without a backward rule.
    case missingBackwardRule(op: String)
    /// `backward` was asked for a non-scalar result without an explicit seed.
    case nonScalarLoss(shape: [Int])
    /// A seed gradient of the wrong shape.
    case seedShape(got: [Int], expected: [Int])
    /// A variable from another tape.
    case foreignVariable(op: String)
    /// A backward rule returned a gradient of the wrong size.
    case gradientShape(op: String, input: Int, got: [Int], expected: [Int])

    public var description: String {
        switch self {
        case .missingBackwardRule(let op):
            return "Tape.swift: op '\(op)' has no backward rule, but a gradient reached it"
        case .nonScalarLoss(let shape):
            return "Tape.swift: backward from a non-scalar result of shape \(shape) needs a seed gradient"
        case .seedShape(let got, let expected):
            return "Tape.swift: seed gradient of shape \(got), expected \(expected)"
        case .foreignVariable(let op):
            return "Tape.swift: op '\(op)' got a variable recorded on another tape"
        case .gradientShape(let op, let input, let got, let expected):
            return "Tape.swift: backward of '\(op)' gave input \(input) a gradient of shape \(got), expected \(expected)"
        }
    }
}
