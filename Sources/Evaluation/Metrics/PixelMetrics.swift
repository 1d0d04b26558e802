/// Pixel-level AUROC, AP, F1-max and AUPRO, exact over every pixel of every map.
public struct PixelMetrics: Sendable, Equatable {
    public var auroc: Double
    public var averagePrecision: Double
    public var f1Max: Double
    /// nil when not requested.
    public var aupro: Double?
    /// Defect pixels, anomaly-free pixels.
    public var positives: Int
    public var negatives: Int

    /// Computes the pixel metrics over `samples` (see docs/METRICS.md). `proMode` nil skips AUPRO;
    /// `fprLimit` is the AUPRO integration limit (AnomalyCLIP mode: its FPR cut-off).
    public static func compute(_ samples: [PixelSample], proMode: PROMode? = .mvtec, fprLimit: Double = 0.3) throws
        -> PixelMetrics
    {
        let r = try PixelSweep.run(samples, withAUPRO: proMode == .mvtec, fprLimit: fprLimit)
        var m = PixelMetrics(auroc: r.auroc, averagePrecision: r.averagePrecision, f1Max: r.f1Max, aupro: r.aupro,
                             positives: r.positives, negatives: r.negatives)
        if proMode == .anomalyclip { m.aupro = try AUPRO.anomalyCLIP(samples, expectedFPR: fprLimit) }
        return m
    }
}
