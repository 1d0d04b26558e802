import Tensor

extension Tensor {
    /// Token sequences [B, T, W] without their first (class) token: the patch tokens [B, T-1, W], in grid order.
    public func droppingClassToken() -> Tensor {
        let b = shape[0], t = shape[1], w = shape[2]
        return Tensor.concatenate((0..<b).map { self[$0].slice(rows: 1..<t) }).reshaped([b, t - 1, w])
    }
}
