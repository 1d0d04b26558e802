// swift-tools-version:6.0
import PackageDescription

// Release builds of ClipAD's own targets are compiled for speed with bounds and overflow checks kept (-O; issue 13
// measured -O against -Ounchecked at no cost, benchmarks/RESULTS.md): input is validated with thrown errors, and a
// check that fires stops the process instead of corrupting memory.
let swiftOptimisationFlags = ["-O"]

// The vector baseline the Swift code may assume. `#if arch` here is the HOST evaluating this manifest, so it is right
// for native builds only: cross-compiling x86-64 -> arm64 would pass an x86 CPU to the arm64 compiler (set it to nil
// by hand), arm64 -> x86-64 builds for baseline x86-64 (correct, slower). With "haswell", the CCPUFeatures target
// refuses to start on a CPU without AVX2/FMA/BMI/LZCNT/MOVBE/F16C (one line, exit 69) instead of dying with SIGILL.
#if arch(x86_64)
let swiftTargetCPU: String? = "haswell"
#else
let swiftTargetCPU: String? = nil
#endif

let swiftReleaseFlags = swiftOptimisationFlags + (swiftTargetCPU.map { ["-target-cpu", $0] } ?? [])
let fast: [SwiftSetting] = [.unsafeFlags(swiftReleaseFlags, .when(configuration: .release))]
// Tells the C check which baseline the Swift code was compiled for (release only: debug builds use no -target-cpu).
let buildFeatureCheck: [CSetting] = swiftTargetCPU == "haswell"
    ? [.define("CLIPAD_SWIFT_TARGETS_HASWELL", .when(configuration: .release))] : []

let package = Package(
    name: "ClipAD",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clipad", targets: ["clipad"]),
        .library(name: "ClipADKit", targets: ["FileAccess", "Tensor", "Checkpoint", "ImageIO", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation", "Detection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Already in the graph through Hummingbird; named here because `clipad serve` builds its own ServiceGroup (drain on SIGTERM).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSPNG", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // cpuid, built for baseline x86-64 (no -target-cpu): it must run on CPUs the Swift code cannot.
        .target(name: "CCPUFeatures", cSettings: buildFeatureCheck),

        // MARK: - Library targets (arrows point down only)
        .target(name: "FileAccess", swiftSettings: fast),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CCPUFeatures", "FileAccess"], swiftSettings: fast),
        .target(name: "Checkpoint", dependencies: ["Tensor", "CZlib"], swiftSettings: fast),
        .target(name: "ImageIO", dependencies: ["CSPNG", "CTurboJPEG", "FileAccess"], swiftSettings: fast),
        .target(name: "CLIP", dependencies: ["FileAccess", "Tensor", "Checkpoint", "ImageIO", "CZlib"],
                resources: [.copy("Resources/bpe_simple_vocab_16e6.txt.gz"), .copy("Resources/architectures")],
                swiftSettings: fast),

        .target(name: "Evaluation", dependencies: ["FileAccess", "Tensor", "Checkpoint", "ImageIO"], swiftSettings: fast),
        .target(name: "AnomalyCLIP", dependencies: ["Tensor", "Checkpoint", "ImageIO", "CLIP"], swiftSettings: fast),
        .target(name: "PromptAD", dependencies: ["Tensor", "Checkpoint", "CLIP"], swiftSettings: fast),
        .target(name: "WinCLIP", dependencies: ["Tensor", "CLIP"], swiftSettings: fast),

        // MARK: - The runnable-detector layer: one protocol, one spec, the factory (CLI, server and tests use it)
        .target(name: "Detection", dependencies: ["FileAccess", "Tensor", "Checkpoint", "ImageIO", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation"],
                resources: [.copy("Resources/method-defaults.json")], swiftSettings: fast),

        // MARK: - `clipad serve`: KServe v2 / Open Inference Protocol over Hummingbird 2 -> Detection
        .target(name: "ClipADServer", dependencies: [
            "FileAccess", "Detection", "ImageIO", "Evaluation", "Tensor",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: fast),

        // MARK: - Command-line tool (thin: parsing, progress and printing only)
        .executableTarget(name: "clipad", dependencies: [
            "FileAccess", "Tensor", "Checkpoint", "ImageIO", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation", "Detection", "ClipADServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        // MARK: - Tests
        // Parity helpers every test target shares (fail on NaN/Inf and on shape mismatches).
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport", swiftSettings: fast),
        // Tiny random-weight model files for every method (CLIP, AnomalyCLIP prompts, a fitted PromptAD model, images).
        .target(name: "DetectionTestSupport", dependencies: ["Detection", "CLIP", "AnomalyCLIP", "PromptAD", "Evaluation", "Checkpoint", "ImageIO", "Tensor"],
                path: "Tests/DetectionTestSupport", swiftSettings: fast),
        .testTarget(name: "FileAccessTests", dependencies: ["FileAccess"], swiftSettings: fast),
        .testTarget(name: "TensorTests", dependencies: ["TestSupport", "Tensor"], resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "CheckpointTests", dependencies: ["TestSupport", "Checkpoint", "Tensor"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "ImageIOTests", dependencies: ["TestSupport", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "CLIPTests", dependencies: ["TestSupport", "CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation", "Tensor", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "AnomalyCLIPTests", dependencies: ["TestSupport", "AnomalyCLIP", "CLIP", "Tensor", "Checkpoint", "Evaluation", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "WinCLIPTests", dependencies: ["TestSupport", "WinCLIP", "CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "PromptADTests", dependencies: ["TestSupport", "PromptAD", "CLIP", "Tensor", "Checkpoint", "ImageIO"],
                    resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "DetectionTests", dependencies: ["TestSupport", "DetectionTestSupport", "Detection", "CLIP", "AnomalyCLIP", "PromptAD", "WinCLIP", "Evaluation", "Checkpoint", "ImageIO", "Tensor"],
                    swiftSettings: fast),
        // Runs the built `clipad` binary as a user would and compares its output.
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "clipad", "Detection", "CLIP", "AnomalyCLIP", "Checkpoint", "Evaluation", "ImageIO", "Tensor"],
                    swiftSettings: fast),
        // Replays FuzzTesting/Corpus and FuzzTesting/FailCases through the fuzzed parsers (no sanitizers needed).
        .testTarget(name: "FuzzReplayTests", dependencies: ["Checkpoint", "ImageIO", "Evaluation", "Tensor"], swiftSettings: fast),
        // Starts the server in-process on a tiny random-weight model repository and talks HTTP to it.
        .testTarget(name: "ServerTests", dependencies: ["TestSupport", "DetectionTestSupport", "ClipADServer", "Detection", "CLIP", "AnomalyCLIP", "PromptAD", "Checkpoint", "ImageIO", "Tensor",
                                                        .product(name: "Hummingbird", package: "hummingbird"),
                                                        .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                        .product(name: "AsyncHTTPClient", package: "async-http-client")],
                    swiftSettings: fast),
    ],
    swiftLanguageModes: [.v5]
)
