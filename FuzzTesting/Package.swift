// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for ClipAD's parsers, one executable per parser (the shape of swift-protobuf's FuzzTesting/).
// The main package stays plain; these build with the sanitizers (see run.sh):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
let package = Package(
    name: "FuzzTesting",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "ClipAD", path: ".."),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
        .executableTarget(name: "FuzzSafetensors", dependencies: [
            "FuzzSupport", .product(name: "ClipADKit", package: "ClipAD"),
        ]),
        .executableTarget(name: "FuzzTorchArchive", dependencies: [
            "FuzzSupport", .product(name: "ClipADKit", package: "ClipAD"),
        ]),
        .executableTarget(name: "FuzzImageDecode", dependencies: [
            "FuzzSupport", .product(name: "ClipADKit", package: "ClipAD"),
        ]),
        .executableTarget(name: "FuzzDatasetList", dependencies: [
            "FuzzSupport", .product(name: "ClipADKit", package: "ClipAD"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
