import CCPUFeatures

/// The instruction-set extensions this processor and its operating system let a program use, from cpuid (decoded in
/// the `CCPUFeatures` C target, with the OS's register-state support folded in). Empty off x86-64.
public struct CPUFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse42 = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_SSE42))
    public static let popcnt = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_POPCNT))
    public static let avx = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX))
    public static let avx2 = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_FMA))
    public static let f16c = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_F16C))
    public static let movbe = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_MOVBE))
    public static let bmi1 = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_BMI1))
    public static let bmi2 = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_BMI2))
    public static let lzcnt = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_LZCNT))
    public static let avx512f = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512F))
    public static let avx512dq = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512DQ))
    public static let avx512cd = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512CD))
    public static let avx512bw = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512BW))
    public static let avx512vl = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512VL))
    public static let avx512bf16 = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_AVX512BF16))

    /// AVX-512 as OpenBLAS's SkylakeX kernels use it (and as it calls "AVX512VL" support): F, BW, DQ, VL.
    public static let avx512Skylake: CPUFeatures = [.avx512f, .avx512bw, .avx512dq, .avx512vl]
    /// AVX2 with FMA3: what OpenBLAS's Haswell kernels need.
    public static let avx2FMA: CPUFeatures = [.avx, .avx2, .fma]
    /// What a release build's Swift code, compiled with `-target-cpu haswell`, may execute anywhere.
    public static let haswellBaseline = CPUFeatures(rawValue: UInt32(CLIPAD_CPU_HASWELL_BASELINE))

    /// This processor's features (read once: cpuid does not change while a process runs).
    public static let current: CPUFeatures = {
        #if arch(x86_64)
        var words = clipad_cpuid_read()
        return CPUFeatures(rawValue: clipad_cpu_features_decode(&words))
        #else
        return []  // no cpuid; nothing here is chosen by x86 features
        #endif
    }()

    /// Decodes raw cpuid words, the way `current` does (tests feed made-up ones): cpuid(1).ecx, cpuid(7,0).ebx,
    /// cpuid(7,1).eax, cpuid(0x80000001).ecx and xgetbv(0).
    public init(leaf1ECX: UInt32, leaf7EBX: UInt32, leaf7Subleaf1EAX: UInt32 = 0, extended1ECX: UInt32, xcr0: UInt64) {
        var words = clipad_cpuid_words()
        words.leaf1_ecx = leaf1ECX
        words.leaf7_ebx = leaf7EBX
        words.leaf7_1_eax = leaf7Subleaf1EAX
        words.ext1_ecx = extended1ECX
        words.xcr0 = xcr0
        self.init(rawValue: clipad_cpu_features_decode(&words))
    }

    /// The features the Swift code of this build was compiled to assume (empty in debug builds and off x86-64).
    public static var requiredByBuild: CPUFeatures { CPUFeatures(rawValue: clipad_cpu_features_required()) }

    /// Names of the features in `required` that this set lacks, e.g. `["AVX2", "FMA"]`.
    public func missing(_ required: CPUFeatures) -> [String] {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = clipad_cpu_features_missing(rawValue, required.rawValue, &buffer, Int32(buffer.count))
        guard count > 0 else { return [] }
        return String(cString: buffer).split(separator: " ").map(String.init)
    }

    /// Names of the features present, e.g. "SSE4.2 POPCNT AVX AVX2 FMA ..." (all of them "missing" from none).
    public var description: String {
        CPUFeatures(rawValue: 0).missing(self).joined(separator: " ")
    }

    /// The AVX-512 part for a one-line summary: "AVX-512F/BW/DQ/VL", "AVX2+FMA", "AVX", or "SSE" (x86-64 only).
    public var vectorLevel: String {
        if isSuperset(of: .avx512Skylake) { return "AVX-512F/BW/DQ/VL" }
        if isSuperset(of: .avx2FMA) { return "AVX2+FMA" }
        if contains(.avx) { return "AVX" }
        return "SSE"
    }
}
