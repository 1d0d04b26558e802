import ArgumentParser
import Detection

@main
struct ClipADCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clipad",
        abstract: "Industrial visual anomaly detection with CLIP (AnomalyCLIP, PromptAD, WinCLIP).",
        version: "clipad \(ClipADVersion.current)",
        subcommands: [TokenizeCommand.self, EmbedCommand.self, PredictCommand.self, EvalCommand.self, CalibrateCommand.self, MetricsCommand.self, TrainCommand.self, FitCommand.self, ExportCommand.self, BenchCommand.self, DemoCommand.self, ServeCommand.self]
    )

    static func main() {
        RuntimeEnvironment.applyByReexecutingIfNeeded()
        main(nil)
    }
}
