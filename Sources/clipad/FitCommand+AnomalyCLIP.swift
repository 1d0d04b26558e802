import ArgumentParser
import Detection
import Evaluation
import Foundation

/// `clipad fit --method anomalyclip`'s own options (the shared ones -- --clip, --shots, --shot-count, --seed,
/// --output, --defect-words, --phrase, --phrases-file, --image-size -- are FitCommand's).
struct AnomalyCLIPFitOptions: ParsableArguments {
    @Option(help: "AnomalyCLIP: learned prompt file (the official .pth or a ClipAD .safetensors).") var prompts: String?
    @Option(name: .customLong("bank-layers"), help: "AnomalyCLIP: comma-separated 1-based vision layers of the shot bank (default per backbone: 6,12,18,24 for ViT-L/14; other depths: quarters).")
    var bankLayers: String?

    /// Throws when an AnomalyCLIP option is given to another method (it would be silently ignored).
    func checkUnused(by method: String) throws {
        for (name, value) in [("--prompts", prompts), ("--bank-layers", bankLayers)] where value != nil {
            throw ValidationError("\(name) means nothing for fit --method \(method)")
        }
    }
}

extension FitCommand {
    func validateAnomalyCLIP() throws {
        if anomalyCLIP.prompts == nil { throw ValidationError("--prompts PATH is required for fit --method anomalyclip") }
        if shots.isEmpty { throw ValidationError("--shots needs at least two normal images") }
        if let l = anomalyCLIP.bankLayers, MethodOptions.parseLayers(l) == nil {
            throw ValidationError("--bank-layers must be comma-separated positive integers, got '\(l)'")
        }
        if classNameOption != nil { throw ValidationError("--class-name means nothing for fit --method anomalyclip (its prompts are object-agnostic)") }
        if !promptInit.isEmpty || !validation.isEmpty {
            throw ValidationError("--prompt-init and --validation mean nothing for fit --method anomalyclip (nothing is trained)")
        }
    }

    /// Builds the detector with the chosen shots (the library encodes them and computes the bank statistics) and
    /// writes its model file.
    func runAnomalyCLIP() throws {
        let start = Date()
        let chosen = try ShotSelection.choose(from: try ImageInputs.expand(shots), count: shotCount, seed: seed)
        var spec = DetectorSpec(method: .anomalyclip)
        spec.clip = clipOptions.clip
        spec.activation = clipOptions.activation?.rawValue
        spec.prompts = anomalyCLIP.prompts
        spec.imageSize = imageSize
        spec.shots = chosen
        spec.bankLayers = anomalyCLIP.bankLayers.flatMap(MethodOptions.parseLayers)
        spec.phrases = try DefectPhrases.combine(words: defectWords, phrases: phrases, file: phrasesFile)
        let detector = try AnomalyCLIPShotFitting.fit(spec, output: output, options: .init(notice: printError))
        print(String(format: "wrote %@ (%d shot(s), bank layers %@, %d defect phrase(s), %.1f s)", output, chosen.count,
                     (detector.spec.bankLayers ?? []).map(String.init).joined(separator: ","), detector.spec.phrases?.count ?? 0,
                     Date().timeIntervalSince(start)))
    }
}
