// swift-tools-version:6.0
import PackageDescription

// Release builds of ClipAD's own targets are compiled for speed: AVX2/FMA.
// (Never put side effects inside precondition/assert: they vanish under -Ounchecked.)
// Bounds and overflow checks stay on: the -O line below comes last, and the driver keeps the last optimisation
// flag, so it replaces -Ounchecked (issue 13; -O measured at no cost, see benchmarks/RESULTS.md).
let checkedOptimization = ["-O"]
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release)),
    .unsafeFlags(checkedOptimization, .when(configuration: .release)),
]

let package = Package(
    name: "ClipAD",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clipad", targets: ["clipad"]),
        .library(name: "ClipADKit", targets: ["Tensor", "Checkpoint", "ImageIO", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSPNG", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Library targets (arrows point down only)
        .target(name: "Tensor", dependencies: ["COpenBLAS"], swiftSettings: fast),
        .target(name: "Checkpoint", dependencies: ["Tensor", "CZlib"], swiftSettings: fast),
        .target(name: "ImageIO", dependencies: ["CSPNG", "CTurboJPEG"], swiftSettings: fast),
        .target(name: "CLIP", dependencies: ["Tensor", "Checkpoint", "ImageIO", "CZlib"],
                resources: [.copy("Resources/bpe_simple_vocab_16e6.txt.gz"), .copy("Resources/architectures")],
                swiftSettings: fast),

        .target(name: "Evaluation", dependencies: ["Tensor", "Checkpoint", "ImageIO"], swiftSettings: fast),
        .target(name: "AnomalyCLIP", dependencies: ["Tensor", "Checkpoint", "ImageIO", "CLIP"], swiftSettings: fast),
        .target(name: "PromptAD", dependencies: ["Tensor", "Checkpoint", "CLIP"], swiftSettings: fast),
        .target(name: "WinCLIP", dependencies: ["Tensor", "CLIP"], swiftSettings: fast),

        // MARK: - Command-line tool (thin: parsing and printing only)
        .executableTarget(name: "clipad", dependencies: [
            "Tensor", "Checkpoint", "ImageIO", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        // MARK: - Tests
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "Tensor"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "CLIPTests", dependencies: ["CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Tensor", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "AnomalyCLIPTests", dependencies: ["AnomalyCLIP", "CLIP", "Tensor", "Checkpoint", "Evaluation", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "WinCLIPTests", dependencies: ["WinCLIP", "CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "PromptADTests", dependencies: ["PromptAD", "CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        // Replays FuzzTesting/Corpus and FuzzTesting/FailCases through the fuzzed parsers (no sanitizers needed).
        .testTarget(name: "FuzzReplayTests", dependencies: ["Checkpoint", "ImageIO", "Evaluation", "Tensor"], swiftSettings: fast),
    ],
    swiftLanguageModes: [.v5]
)
