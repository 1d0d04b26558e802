import ArgumentParser
import Evaluation
import ImageIO

/// The anomaly-detection methods the CLI can run.
enum Method: String, ExpressibleByArgument, CaseIterable { case anomalyclip, promptad, winclip }

/// One method, loaded and ready: the common face `predict`, `eval` and `calibrate` use, so those commands do
/// not care which method runs. Each method's runner lives in its own file (`<Method>Runner.swift`) and only
/// calls that method's library.
protocol MethodRunner {
    /// Side of the square anomaly map `predict` returns.
    var mapSide: Int { get }
    /// What a report records about the run (checkpoint, settings), in order.
    var settings: [(key: String, value: String)] { get }
    /// Scores one decoded image: the image score and a `mapSide` x `mapSide` map (after the method's smoothing).
    func predict(_ image: Image) throws -> MapPrediction
    /// The range a map's values can take, for colouring overlays the same way across images.
    var mapRange: ClosedRange<Float> { get }
    /// The image as the map sees it (resized to `mapSide` x `mapSide`), for overlays.
    func overlayBase(_ image: Image) -> Image
    /// Thresholds stored in the method's model file by `clipad calibrate` (nil: none, or no model file).
    var storedThresholds: Thresholds? { get }
    /// The normal images the method learned from (PromptAD's and WinCLIP+'s shots), to keep out of calibration.
    var trainingImages: [String] { get }
    /// Writes a copy of the model file with `thresholds` to `path`; false when the method has no model file.
    func saveModel(with thresholds: Thresholds, to path: String) throws -> Bool
}

/// `--method` and every method's options, shared by `predict`, `eval` and `calibrate`.
struct MethodOptions: ParsableArguments {
    @Option(help: "Method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).") var method: Method
    @OptionGroup var clipOptions: CLIPOptions
    @OptionGroup(title: "AnomalyCLIP") var anomalyCLIP: AnomalyCLIPOptions
    @OptionGroup(title: "PromptAD") var promptAD: PromptADOptions
    @OptionGroup(title: "WinCLIP") var winCLIP: WinCLIPOptions

    func validate() throws {
        switch method {
        case .anomalyclip:
            if clipOptions.clip == nil { throw ValidationError("--clip PATH is required for --method anomalyclip") }
            try anomalyCLIP.requirePrompts()
        case .promptad:
            if promptAD.model == nil { throw ValidationError("--model PATH is required for --method promptad") }
        case .winclip:
            if clipOptions.clip == nil { throw ValidationError("--clip PATH is required for --method winclip") }
        }
    }

    /// Loads the chosen method.
    func makeRunner() throws -> MethodRunner {
        switch method {
        case .anomalyclip: return try AnomalyCLIPRunner(options: anomalyCLIP, clipOptions: clipOptions)
        case .promptad: return try PromptADRunner(options: promptAD, clipOptions: clipOptions)
        case .winclip: return try WinCLIPRunner(options: winCLIP, clipOptions: clipOptions)
        }
    }
}
