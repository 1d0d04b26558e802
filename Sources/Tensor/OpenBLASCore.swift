/// OpenBLAS's x86-64 kernel sets (`openblas_get_corename()`, the values `OPENBLAS_CORETYPE` accepts; 0.3.21's
/// `driver/others/dynamic.c`), ranked by the widest vector instructions their sgemm kernels use.
public enum OpenBLASCore {
    /// Vector width of a kernel set, or of a CPU: a kernel set below the CPU's level leaves speed unused.
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        case sse, avx, avx2, avx512

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .sse: "SSE"
            case .avx: "AVX"
            case .avx2: "AVX2+FMA"
            case .avx512: "AVX-512"
            }
        }

        /// The widest level the CPU runs (OS register state included: `CPUFeatures` folds it in).
        public init(_ features: CPUFeatures) {
            if features.isSuperset(of: .avx512Skylake) { self = .avx512 }
            else if features.isSuperset(of: .avx2FMA) { self = .avx2 }
            else if features.contains(.avx) { self = .avx }
            else { self = .sse }
        }
    }

    /// Each x86-64 core name of OpenBLAS (lower-cased, as OpenBLAS compares case-insensitively) and its level.
    /// Names not listed (a newer OpenBLAS's, another architecture's) have no level: nothing is forced over them.
    static let levels: [String: Level] = [
        // "Unknown" is what OpenBLAS reports when it fell back to a kernel set it has no name for.
        "unknown": .sse, "katmai": .sse, "coppermine": .sse, "northwood": .sse, "prescott": .sse, "banias": .sse,
        "atom": .sse, "core2": .sse, "penryn": .sse, "dunnington": .sse, "nehalem": .sse, "athlon": .sse,
        "opteron": .sse, "opteron_sse3": .sse, "barcelona": .sse, "nano": .sse, "bobcat": .sse,
        "sandybridge": .avx, "bulldozer": .avx, "piledriver": .avx, "steamroller": .avx, "excavator": .avx,
        "haswell": .avx2, "zen": .avx2,
        "skylakex": .avx512, "cooperlake": .avx512, "sapphirerapids": .avx512,
    ]

    /// The level of a core name (case-insensitive), nil for a name this table does not know.
    public static func level(of core: String) -> Level? { levels[core.lowercased()] }

    /// The core to ask for at a level: the oldest kernel set of that width, which every CPU of the level runs
    /// (Cooperlake's needs AVX512-BF16, SapphireRapids' AMX; both use SkylakeX's sgemm).
    public static func core(for level: Level) -> String {
        switch level {
        case .sse: "Prescott"
        case .avx: "Sandybridge"
        case .avx2: "Haswell"
        case .avx512: "SkylakeX"
        }
    }
}
