import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor

/// `clipad bench eval`: the evaluation pipeline around a model on real images — decode, square bicubic resize and
/// normalisation, a patch-grid map upsampled bilinearly and smoothed (Gaussian sigma 4), masks resized NEAREST, then
/// image AUROC and pixel AUROC/AP/F1-max/AUPRO. The map is model-free (the mean normalised intensity of each
/// patch, minus the image mean, squared) so the figure measures the pipeline, not an encoder
/// (`bench encoder`/`anomalyclip`/`promptad` measure those); benchmarks/pytorch/bench_eval.py does the same steps with
/// PIL + torch + scipy + scikit-learn/numpy.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluation pipeline on real images: decode -> resize -> maps -> Gaussian -> metrics (images/s).")

    @Option(help: "Dataset root.") var data: String = "../shared/data/magnetic-tile"
    @Option(help: "Layout (see `clipad eval`).") var dataset: String = "magnetic-tile"
    @Option(name: .customLong("image-size"), help: "Map and input side.") var imageSize: Int = 240
    @Option(name: .customLong("side"), help: .hidden) var legacySide: Int?   // the old spelling, kept for one release
    var side: Int { legacySide ?? imageSize }
    @Option(help: "Patch grid side of the map before upsampling.") var grid: Int = 15
    @Option(help: "Use N test images spread evenly over the sorted list (default: all).") var images: Int?
    @Option(help: "Timed repetitions (after one warm-up).") var runs: Int = 3

    func run() throws {
        let layout = try DatasetLayout(name: dataset)
        var samples = try layout.reader(root: data, trainNormals: layout == .magneticTile ? 16 : 0)
            .samples(split: .test, classes: nil).values.flatMap { $0 }.sorted { $0.imagePath < $1.imagePath }
        // A subset spread evenly over the sorted list, so it holds normal and defective images.
        if let images, images < samples.count {
            samples = (0..<images).map { samples[$0 * samples.count / images] }
        }
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
        let median = Benchmark.median(timings)
        print(String(format: "eval pipeline %@ (%d test images, %dx%d maps): median %.2f s  %.1f images/s  peak memory %.0f MiB  (%d runs)",
                     data, samples.count, side, side, median, Double(samples.count) / median, PeakMemory.mebibytes, runs))
        for (name, seconds) in stages.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %-58@ %.2f s (last run)", name as NSString, seconds))
        }
        if let last {
            print(String(format: "  image AUROC %.4f | pixel AUROC %.4f  AP %.4f  AUPRO %.4f (model-free map: a pipeline check, not a method)",
                         last.image.auroc, last.pixel.auroc, last.pixel.averagePrecision, last.pixel.aupro ?? .nan))
        }
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
