import ArgumentParser
import Evaluation

extension ColorScale: ExpressibleByArgument {}

/// The one help text of `--color-scale` (predict, eval and demo take the same rule).
enum ColorScaleHelp {
    static func text(default value: ColorScale) -> ArgumentHelp {
        ArgumentHelp("Heat-map colour range: fixed (the method's natural map range) | per-image | per-class (default: \(value.rawValue)).")
    }
}
