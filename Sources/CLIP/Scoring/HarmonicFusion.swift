/// Harmonic combinations of anomaly terms, as the methods' official codes write them.
public enum HarmonicFusion {
    /// 1 / (1/a + 1/b) (half the harmonic mean; PromptAD's fusion of textual and visual terms), 0 when either is 0
    /// (the official float arithmetic gives 0 there too).
    @inline(__always) public static func halfHarmonic(_ a: Float, _ b: Float) -> Float {
        a == 0 || b == 0 ? 0 : 1 / (1 / a + 1 / b)
    }

    /// n / Σ 1/x (WinCLIP's harmonic mean of the image score and the window maps); 0 where a term is 0.
    @inline(__always) public static func harmonicMean(_ terms: [Float]) -> Float {
        let v = Float(terms.count) / terms.reduce(Float(0)) { $0 + 1 / $1 }
        return v.isFinite ? v : 0
    }
}
