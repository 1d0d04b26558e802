import ImageIO
import Tensor

/// The binary defect mask `predict` writes: the anomaly map resized bilinearly (align_corners false) to the
/// image's own size, then 255 where the score is above the pixel threshold, else 0.
public enum PredictedMask {
    public static func binary(_ p: MapPrediction, threshold: Float, width: Int, height: Int) -> Image {
        let map = Tensor(shape: [1, p.height, p.width], scalars: p.map)
        let resized = (p.width, p.height) == (width, height) ? map : Interpolation.resize(map, height: height, width: width, mode: .bilinear)
        return Image(width: width, height: height, channels: 1, pixels: resized.scalars.map { $0 > threshold ? 255 : 0 })
    }
}
