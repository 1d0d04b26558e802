import Evaluation

extension PredictionPipeline {
    /// The pipeline as `DatasetEvaluation`'s prediction stream: a class's samples by image path, in order.
    public func stream(_ samples: [DatasetSample], deliver: (Int, Result<MapPrediction, any Error>) throws -> Void) throws {
        try run(samples.map(\.imagePath)) { i, result in try deliver(i, result.map(\.mapPrediction)) }
    }
}
