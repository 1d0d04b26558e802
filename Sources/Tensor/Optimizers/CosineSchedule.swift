#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Cosine annealing of the learning rate (`torch.optim.lr_scheduler.CosineAnnealingLR`, closed form):
/// lr_t = lr_min + (lr0 - lr_min) · (1 + cos(π t / T)) / 2 for step t (0 = before the first scheduler step).
public struct CosineSchedule: Sendable {
    public let initial: Float
    public let minimum: Float
    public let period: Int

    public init(initial: Float, minimum: Float = 0, period: Int) {
        precondition(period > 0, "CosineSchedule: period \(period) must be positive")
        self.initial = initial
        self.minimum = minimum
        self.period = period
    }

    public func learningRate(at step: Int) -> Float {
        let c = cos(Double.pi * Double(step) / Double(period))
        return Float(Double(minimum) + (Double(initial) - Double(minimum)) * (1 + c) / 2)
    }
}
