import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor

/// The evaluation pipeline around a model on real images: decode, square bicubic resize and normalisation, a
/// patch-grid map upsampled bilinearly and smoothed (Gaussian sigma 4), masks resized NEAREST, then image AUROC and
/// pixel AUROC/AP/F1-max/AUPRO. The map is model-free (the mean normalised intensity of each patch, minus the image
/// mean, squared) so the figure measures the pipeline, not an encoder (`bench encoder`/`anomalyclip`/`promptad`
/// measure those); benchmarks/pytorch/bench_eval.py does the same steps with PIL + torch + scipy + scikit-learn/numpy.
public struct EvaluationPipelineBenchmark: Sendable {
    public struct Result: Sendable {
        public var images: Int
        /// Median seconds of one whole pass.
        public var seconds: Double
        /// Seconds per stage in the last pass, by name.
        public var stages: [String: Double]
        public var image: ImageMetrics
        public var pixel: PixelMetrics
    }

    public let samples: [DatasetSample]
    public let side: Int
    public let grid: Int
    public let runs: Int

    /// The test split of `layout` at `root` (magnetic-tile keeps its 16 training normals out), or `images` of it
    /// spread evenly over the sorted list, so a subset holds normal and defective images.
    public init(layout: DatasetLayout, root: String, images: Int?, side: Int, grid: Int, runs: Int) throws {
        try BenchmarkSetting.check(side, in: 1...Interpolation.maxSide, "image-size")
        try BenchmarkSetting.check(grid, in: 1...side, "grid")
        try BenchmarkSetting.check(runs, in: 1...1000, "runs")
        if let images { try BenchmarkSetting.check(images, in: 1...10_000_000, "images") }
        var all = try layout.reader(root: root, trainNormals: layout == .magneticTile ? 16 : 0)
            .samples(split: .test, classes: nil).values.flatMap { $0 }.sorted { $0.imagePath < $1.imagePath }
        if let images, images < all.count { all = (0..<images).map { all[$0 * all.count / images] } }
        guard !all.isEmpty else { throw DetectionError.unreadableFile(path: root, reason: "no test images") }
        // Every image's map (4 bytes a pixel) and mask (1) are held until the metrics.
        try MemoryBudget.check(elements: MemoryBudget.product([all.count, side, side]), of: 5, for: "\(all.count) maps of \(side)x\(side)")
        samples = all
        self.side = side
        self.grid = grid
        self.runs = runs
    }

    public func run() throws -> Result {
        let preprocessor = ImagePreprocessor(size: side, resize: .square)
        let gaussian = GaussianFilter(sigma: 4)
        var stages = [String: Double]()
        var last: (image: ImageMetrics, pixel: PixelMetrics)? = nil
        let timings = try Benchmark.measure(runs: runs) {
            var t = [String: Double]()
            func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
                let start = DispatchTime.now().uptimeNanoseconds
                defer { t[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
                return try body()
            }
            // Per image, on both cores: decode, resize, map, smoothing, mask.
            var maps = [[Float]](repeating: [], count: samples.count), masks = [[UInt8]?](repeating: nil, count: samples.count)
            var failure: Error? = nil
            let lock = NSLock()
            timed("per-image (decode, resize, map, Gaussian, mask; 2 threads)") {
                Parallel.forEach(samples.count) { i in
                    do {
                        let pixels = try preprocessor.preprocess(try ImageDecoder.decodeRGB(path: samples[i].imagePath))
                        let map = gaussian.apply(Interpolation.resize(patchMap(pixels), height: side, width: side, mode: .bilinear))
                        var mask: [UInt8]? = nil
                        if let path = samples[i].maskPath {
                            let gray = try ImageDecoder.decodeGray(path: path)
                            mask = PillowResize.nearest(gray, width: side, height: side).pixels.map { $0 > 0 ? 1 : 0 }
                        }
                        lock.lock(); maps[i] = map.scalars; masks[i] = mask; lock.unlock()
                    } catch {
                        lock.lock(); failure = error; lock.unlock()
                    }
                }
            }
            if let failure { throw failure }
            let pixelSamples = try timed("pixel samples") {
                try (0..<samples.count).map { try PixelSample(width: side, height: side, scores: maps[$0], mask: masks[$0]) }
            }
            let image = try timed("image metrics") {
                try ImageMetrics.compute(scores: maps.map { $0.max() ?? 0 }, labels: samples.map(\.label))
            }
            let pixel = try timed("pixel metrics (AUROC, AP, F1-max, AUPRO)") { try PixelMetrics.compute(pixelSamples, proMode: .mvtec) }
            last = (image, pixel)
            stages = t
        }
        guard let last else { throw DetectionError.badSetting(setting: "runs", reason: "no run finished") }
        return Result(images: samples.count, seconds: Benchmark.median(timings), stages: stages, image: last.image, pixel: last.pixel)
    }

    /// [3, S, S] normalised pixels -> [1, g, g]: per patch, (mean over its pixels and channels - image mean)².
    func patchMap(_ pixels: Tensor) -> Tensor {
        let s = side, g = grid, p = pixels.data
        var sums = [Double](repeating: 0, count: g * g), counts = [Double](repeating: 0, count: g * g)
        var total = 0.0
        for c in 0..<3 { for y in 0..<s { for x in 0..<s {
            let v = Double(p[(c * s + y) * s + x])
            let cell = (y * g / s) * g + x * g / s
            sums[cell] += v; counts[cell] += 1; total += v
        } } }
        let mean = total / Double(3 * s * s)
        return Tensor(shape: [1, g, g]) { i in Float((sums[i] / counts[i] - mean) * (sums[i] / counts[i] - mean)) }
    }
}
