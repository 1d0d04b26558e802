/// Resizing of [C, H, W] planes (AnomalyCLIP upsamples patch similarity maps to the image size before its losses).
extension Variable {
    public func resized(height: Int, width: Int, mode: Interpolation.Mode) -> Variable {
        precondition(rank == 3, "resized expects [C, H, W], got \(shape)")
        let inH = shape[1], inW = shape[2]
        return unary("resize", Interpolation.resize(value, height: height, width: width, mode: mode)) { g in
            Interpolation.resizeBackward(g, height: inH, width: inW, mode: mode)
        }
    }
}
