import ArgumentParser
import Detection

/// `--batch-size` of the commands that score many images through `PredictionPipeline` (eval, predict).
struct BatchOptions: ParsableArguments {
    @Option(name: .customLong("batch-size"),
            help: "Images per forward pass, the next batch decoded while one runs (default \(PredictionPipeline.defaultBatchSize): the image-by-image results bit for bit; more is faster and agrees to rounding).")
    var batchSize: Int?

    func validate() throws {
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
    }

    func pipeline(for detector: any Detector) throws -> PredictionPipeline {
        try PredictionPipeline(detector: detector, batchSize: batchSize)
    }
}
