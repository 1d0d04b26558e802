import COpenBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which OpenBLAS kernel set runs, chosen so that it does not depend on OpenBLAS knowing this CPU model.
///
/// Why: a DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU's family/model table, and a model newer than the
/// build falls back to old kernels: 0.3.21 (Debian 12) on a family 6 model 207 Xeon (AVX-512) chose Prescott (SSE3),
/// 4–6x slower than SkylakeX. OpenBLAS reads `OPENBLAS_CORETYPE` only when it is loaded, so the CLI sets it from
/// `environmentDefaults()` and re-executes itself once; a value already in the environment is the user's and kept
/// (some machines set it, with OPENBLAS_L2_SIZE, because older builds computed wrong results on them).
public enum KernelSelection {
    /// The variable OpenBLAS reads at load.
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"
    /// Set beside a forced OPENBLAS_CORETYPE to what OpenBLAS had chosen itself, so the summary can say so.
    public static let ownChoiceVariable = "CLIPAD_OPENBLAS_OWN_CORETYPE"

    // MARK: - The decision

    /// The core to force, or nil to leave OpenBLAS's choice: forces the widest kernel set the CPU runs (SkylakeX
    /// for AVX-512 F/BW/DQ/VL, Haswell for AVX2+FMA) when OpenBLAS chose a narrower one. Never overrides a value
    /// the user set (`userCoreType`, even empty), an OpenBLAS built for one core (no DYNAMIC_ARCH, where the
    /// variable does nothing), or a core name this table does not know (a newer OpenBLAS knows better).
    public static func coreToForce(features: CPUFeatures, openBLASCore: String, userCoreType: String?,
                                   dynamicArch: Bool) -> String? {
        guard userCoreType == nil, dynamicArch, let chosen = OpenBLASCore.level(of: openBLASCore) else { return nil }
        let available = OpenBLASCore.Level(features)
        return chosen < available ? OpenBLASCore.core(for: available) : nil
    }

    // MARK: - The process's state

    /// What the decision and the summary read: the CPU, what OpenBLAS reports, the two variables.
    public struct State: Sendable, Equatable {
        public var features: CPUFeatures
        public var isX86: Bool
        /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
        public var openBLASConfig: String
        /// `openblas_get_corename()`, e.g. "Prescott".
        public var openBLASCore: String
        public var coreType: String?
        public var ownChoice: String?

        public init(features: CPUFeatures, isX86: Bool, openBLASConfig: String, openBLASCore: String,
                    coreType: String?, ownChoice: String?) {
            self.features = features
            self.isX86 = isX86
            self.openBLASConfig = openBLASConfig
            self.openBLASCore = openBLASCore
            self.coreType = coreType
            self.ownChoice = ownChoice
        }

        /// This process: cpuid, the loaded OpenBLAS, the environment.
        public static var current: State {
            #if arch(x86_64)
            let isX86 = true
            #else
            let isX86 = false
            #endif
            return State(features: .current, isX86: isX86,
                         openBLASConfig: openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS",
                         openBLASCore: openblas_get_corename().map { String(cString: $0) } ?? "Unknown",
                         coreType: environment(coreTypeVariable), ownChoice: environment(ownChoiceVariable))
        }

        var dynamicArch: Bool { openBLASConfig.split(separator: " ").contains("DYNAMIC_ARCH") }

        /// "OpenBLAS 0.3.21": the config's first two words.
        var version: String { openBLASConfig.split(separator: " ").prefix(2).joined(separator: " ") }
    }

    // MARK: - What the CLI calls

    /// Variables to set before OpenBLAS loads (the CLI adds them to its re-exec table, keeping any already set):
    /// OPENBLAS_CORETYPE and the note of OpenBLAS's own choice when a core is forced, else none.
    public static func environmentDefaults() -> [(name: String, value: String)] {
        environmentDefaults(.current)
    }

    public static func environmentDefaults(_ state: State) -> [(name: String, value: String)] {
        guard let core = coreToForce(features: state.features, openBLASCore: state.openBLASCore,
                                     userCoreType: state.coreType, dynamicArch: state.dynamicArch) else { return [] }
        return [(coreTypeVariable, core), (ownChoiceVariable, state.openBLASCore)]
    }

    /// What `--version` and every bench prints, a line each: the OpenBLAS kernel set and the GEMM library in use.
    public static var reportLines: [String] { [summary, GEMMLibrary.summary] }

    /// One line for `--version` and bench output, e.g. "OpenBLAS 0.3.21 core SkylakeX (forced: OpenBLAS chose
    /// Prescott; cpuid AVX-512F/BW/DQ/VL)".
    public static var summary: String { summary(.current) }

    public static func summary(_ state: State) -> String {
        let core = state.openBLASCore
        let how: String
        if let set = state.coreType {
            if set.lowercased() != core.lowercased() {
                how = "\(coreTypeVariable)=\(set) not in effect"
            } else if let own = state.ownChoice {
                how = "forced: OpenBLAS chose \(own)"
            } else {
                how = "\(coreTypeVariable)=\(set) from the environment"
            }
        } else if !state.dynamicArch {
            how = "OpenBLAS built for one core"
        } else if let better = coreToForce(features: state.features, openBLASCore: core, userCoreType: nil,
                                           dynamicArch: true) {
            how = "OpenBLAS's own choice, narrower than this CPU: start with \(coreTypeVariable)=\(better)"
        } else {
            how = "OpenBLAS's own choice"
        }
        let cpu = state.isX86 ? "; cpuid \(state.features.vectorLevel)" : ""
        return "\(state.version) core \(core) (\(how)\(cpu))"
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
