import Evaluation

/// What any detector returns for one image.
public struct Prediction: Sendable {
    /// Image-level anomaly score (higher = more anomalous).
    public var score: Float
    /// The map on the model's patch grid, before upsampling and smoothing: [gridSide x gridSide], row-major.
    public var gridMap: [Float]
    public var gridSide: Int
    /// The map at the output size (after the method's upsampling and smoothing): [mapSide x mapSide], row-major.
    public var map: [Float]
    public var mapSide: Int
    /// Size of the image as given, to resize the map back to it.
    public var imageWidth: Int
    public var imageHeight: Int
    /// 1 = anomalous (score > image threshold), when thresholds are known.
    public var label: Int?
    public var thresholds: Thresholds?
    public var timings: Timings

    public struct Timings: Sendable, Equatable {
        /// Resize and normalisation of this image.
        public var preprocessSeconds: Double
        /// This image's share of its batch's forward pass and scoring.
        public var computeSeconds: Double
        /// Time waiting for the cores (another caller was computing).
        public var waitSeconds: Double
    }

    /// The form the evaluation code takes.
    public var mapPrediction: MapPrediction {
        MapPrediction(map: map, width: mapSide, height: mapSide, score: score, imageSize: (imageWidth, imageHeight))
    }
}
