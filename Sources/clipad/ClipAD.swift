import ArgumentParser
import Checkpoint
import Detection
import Tensor

@main
struct ClipADCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clipad",
        abstract: "Industrial visual anomaly detection with CLIP (AnomalyCLIP, PromptAD, WinCLIP).",
        version: "clipad \(ClipADVersion.current)\n\(KernelSelection.summary)",
        subcommands: [TokenizeCommand.self, EmbedCommand.self, PredictCommand.self, EvalCommand.self, CalibrateCommand.self, MetricsCommand.self, TrainCommand.self, FitCommand.self, ExportCommand.self, BenchCommand.self, DemoCommand.self, ServeCommand.self]
    )

    static func main() {
        RuntimeEnvironment.applyByReexecutingIfNeeded()
        TempFiles.removeOnTerminationSignals()
        main(nil)
    }
}
