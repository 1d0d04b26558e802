import ArgumentParser
import Foundation
import Checkpoint
import Detection
import Tensor

@main
struct ClipADCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clipad",
        abstract: "Industrial visual anomaly detection with CLIP (AnomalyCLIP, PromptAD, WinCLIP).",
        version: (["clipad \(ClipADVersion.current)"] + KernelSelection.reportLines).joined(separator: "\n"),
        subcommands: [TokenizeCommand.self, EmbedCommand.self, PredictCommand.self, EvalCommand.self, CalibrateCommand.self, MetricsCommand.self, TrainCommand.self, FitCommand.self, ExportCommand.self, BenchCommand.self, DemoCommand.self, ServeCommand.self]
    )

    static func main() {
        ProcessEnvironment.applyByReexecutingIfNeeded()
        if let error = GEMMLibrary.selectionError {
            FileHandle.standardError.write(Data("clipad: \(error)\n".utf8))
            Foundation.exit(2)
        }
        TempFiles.removeOnTerminationSignals()
        main(nil)
    }
}
