import ArgumentParser
import Checkpoint
import Detection
import Evaluation
import Foundation
import ImageIO

/// `clipad calibrate`: image and pixel thresholds from held-out normal images, stored with the model.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Pick image and pixel thresholds at a false-positive rate on held-out NORMAL images; store them with the model.")

    @OptionGroup var methodOptions: MethodOptions
    @Option(parsing: .upToNextOption, help: "Held-out normal images (files or folders), not the ones the method learned from.")
    var normals: [String]
    @Option(help: "Target false-positive rate on the normals, for images and for pixels.") var fpr: Double = 0.01
    @Option(help: "Output: the model file with the thresholds added (AnomalyCLIP: a ClipAD prompt file; PromptAD: a model file), or a thresholds JSON for WinCLIP.")
    var output: String

    func validate() throws {
        if normals.isEmpty { throw ValidationError("--normals needs at least one normal image") }
        if !(fpr > 0 && fpr < 1) { throw ValidationError("--fpr must be in (0, 1), got \(fpr)") }
    }

    func run() throws {
        let images = try ImageInputs.expand(normals)
        try OutputGuard(inputs: images).check(output)
        let (detector, _) = try methodOptions.makeDetector(ignoringThresholds: true)
        let learned = Set(detector.learnedImages.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        let overlap = images.filter { learned.contains(URL(fileURLWithPath: $0).standardizedFileURL.path) }
        if !overlap.isEmpty {
            printError("warning: \(overlap.count) of the normals are images the method learned from (e.g. \(overlap[0])); their scores are optimistic — use held-out normals")
        }
        let side = detector.mapSide
        var imageCalibrator = try Thresholds.Calibrator(maximumCount: images.count, targetFPR: fpr)
        var pixelCalibrator = try Thresholds.Calibrator(maximumCount: images.count * side * side, targetFPR: fpr)
        var progress = ProgressLine(total: images.count, label: "calibrate")
        var failures = 0
        for path in images {
            defer { progress.advance() }
            do {
                let p = try detector.predict(try ImageDecoder.decodeRGB(path: path), name: path)
                imageCalibrator.add([p.score])
                pixelCalibrator.add(p.map)
            } catch {
                failures += 1
                progress.interrupt("skipped \(error)")
            }
        }
        progress.finish("scored \(imageCalibrator.count) normal image(s)\(failures > 0 ? " (\(failures) unreadable, skipped)" : "")")
        let image = try imageCalibrator.result(), pixel = try pixelCalibrator.result()
        let thresholds = CalibratedThresholds(
            thresholds: Thresholds(image: image.threshold, pixel: pixel.threshold, targetFPR: fpr, imageFPR: image.fpr,
                                   pixelFPR: pixel.fpr, normalImages: imageCalibrator.count, method: methodOptions.method.rawValue),
            calibratedFor: detector.identity)
        let stored = try detector.saveModel(with: thresholds, to: output)
        if !stored { try AtomicFileWriter.write(Data((thresholds.json() + "\n").utf8), to: output) }
        let t = thresholds.thresholds
        print(String(format: "image threshold %.6g (FPR on %d normals %.4f)  pixel threshold %.6g (pixel FPR %.4f); anomalous = score > threshold",
                     t.image, t.normalImages, t.imageFPR, t.pixel, t.pixelFPR))
        print(stored ? "wrote \(output) (the model with its thresholds: pass it to predict as before)"
                     : "wrote \(output) (pass it to predict with --thresholds)")
    }
}
