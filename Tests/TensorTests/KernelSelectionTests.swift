import XCTest
@testable import Tensor

/// The OpenBLAS kernel decision (feature set + OpenBLAS's own core + the user's OPENBLAS_CORETYPE -> core to force),
/// the cpuid decoding it rests on, and the one-line summary.
final class KernelSelectionTests: XCTestCase {
    static let avx512: CPUFeatures = CPUFeatures.haswellBaseline.union(.avx512Skylake).union([.avx512cd])
    static let avx2: CPUFeatures = .haswellBaseline
    static let avx: CPUFeatures = [.sse42, .popcnt, .avx]
    static let sse: CPUFeatures = [.sse42, .popcnt]

    struct Case {
        let features: CPUFeatures
        let core: String
        var user: String? = nil
        var dynamicArch = true
        let expected: String?
        let line: UInt
    }

    func testCoreToForceTable() {
        let cases: [Case] = [
            // The Xeon (family 6 model 207) Debian's 0.3.21 did not know: Prescott on an AVX-512 CPU.
            Case(features: Self.avx512, core: "Prescott", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Katmai", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Core2", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Penryn", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Nehalem", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Sandybridge", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Unknown", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Haswell", expected: "SkylakeX", line: #line),
            Case(features: Self.avx512, core: "Zen", expected: "SkylakeX", line: #line),
            // Already AVX-512 kernels: left alone, whatever the spelling.
            Case(features: Self.avx512, core: "SkylakeX", expected: nil, line: #line),
            Case(features: Self.avx512, core: "Cooperlake", expected: nil, line: #line),
            Case(features: Self.avx512, core: "skylakex", expected: nil, line: #line),
            Case(features: Self.avx512, core: "SapphireRapids", expected: nil, line: #line),
            // AVX2 + FMA.
            Case(features: Self.avx2, core: "Prescott", expected: "Haswell", line: #line),
            Case(features: Self.avx2, core: "Nehalem", expected: "Haswell", line: #line),
            Case(features: Self.avx2, core: "Sandybridge", expected: "Haswell", line: #line),
            Case(features: Self.avx2, core: "Excavator", expected: "Haswell", line: #line),
            Case(features: Self.avx2, core: "Haswell", expected: nil, line: #line),
            Case(features: Self.avx2, core: "Zen", expected: nil, line: #line),
            Case(features: Self.avx2, core: "SkylakeX", expected: nil, line: #line),
            // AVX without AVX2 (only a debug build runs there), and plain SSE.
            Case(features: Self.avx, core: "Prescott", expected: "Sandybridge", line: #line),
            Case(features: Self.avx, core: "Sandybridge", expected: nil, line: #line),
            Case(features: Self.sse, core: "Prescott", expected: nil, line: #line),
            Case(features: Self.sse, core: "Nehalem", expected: nil, line: #line),
            // AVX2 alone is not enough for Haswell's kernels: they need FMA.
            Case(features: Self.avx2.subtracting(.fma), core: "Prescott", expected: "Sandybridge", line: #line),
            // AVX-512F without BW/DQ/VL (Knights Landing) is not SkylakeX.
            Case(features: Self.avx2.union(.avx512f), core: "Prescott", expected: "Haswell", line: #line),
            // The user's value is kept, even one narrower than the CPU, and even empty.
            Case(features: Self.avx512, core: "Prescott", user: "Haswell", expected: nil, line: #line),
            Case(features: Self.avx512, core: "Haswell", user: "Haswell", expected: nil, line: #line),
            Case(features: Self.avx512, core: "Prescott", user: "", expected: nil, line: #line),
            // An OpenBLAS built for one core ignores the variable; a core name we do not know is not second-guessed.
            Case(features: Self.avx512, core: "Prescott", dynamicArch: false, expected: nil, line: #line),
            Case(features: Self.avx512, core: "Zen5", expected: nil, line: #line),
            // Not x86-64 (no cpuid features): nothing forced.
            Case(features: [], core: "NEOVERSEN1", expected: nil, line: #line),
            Case(features: [], core: "ARMV8", expected: nil, line: #line),
        ]
        for c in cases {
            let got = KernelSelection.coreToForce(features: c.features, openBLASCore: c.core, userCoreType: c.user,
                                                  dynamicArch: c.dynamicArch)
            XCTAssertEqual(got, c.expected, "\(c.features.vectorLevel), OpenBLAS \(c.core), user \(c.user ?? "-")",
                           line: c.line)
        }
    }

    // MARK: - cpuid decoding

    static let leaf1All: UInt32 = 1 << 20 | 1 << 23 | 1 << 22 | 1 << 27 | 1 << 28 | 1 << 12 | 1 << 29
    static let leaf7All: UInt32 = 1 << 3 | 1 << 5 | 1 << 8 | 1 << 16 | 1 << 17 | 1 << 28 | 1 << 30 | 1 << 31
    static let lzcnt: UInt32 = 1 << 5

    func testDecodesFeaturesWithTheOSRegisterState() {
        let all = CPUFeatures(leaf1ECX: Self.leaf1All, leaf7EBX: Self.leaf7All, leaf7Subleaf1EAX: 1 << 5,
                              extended1ECX: Self.lzcnt, xcr0: 0xe7)
        XCTAssertTrue(all.isSuperset(of: .haswellBaseline), all.description)
        XCTAssertTrue(all.isSuperset(of: .avx512Skylake.union([.avx512cd, .avx512bf16])), all.description)
        XCTAssertEqual(OpenBLASCore.Level(all), .avx512)

        // The OS saves YMM but not the AVX-512 state (a hypervisor can do this): AVX2 yes, AVX-512 no.
        let noZMM = CPUFeatures(leaf1ECX: Self.leaf1All, leaf7EBX: Self.leaf7All, extended1ECX: Self.lzcnt, xcr0: 0x7)
        XCTAssertTrue(noZMM.isSuperset(of: .haswellBaseline))
        XCTAssertTrue(noZMM.isDisjoint(with: .avx512Skylake))
        XCTAssertEqual(KernelSelection.coreToForce(features: noZMM, openBLASCore: "Prescott", userCoreType: nil,
                                                   dynamicArch: true), "Haswell")

        // No OSXSAVE: no VEX instruction is usable, whatever the other bits say.
        let noOSXSAVE = CPUFeatures(leaf1ECX: Self.leaf1All & ~(1 << 27), leaf7EBX: Self.leaf7All,
                                    extended1ECX: Self.lzcnt, xcr0: 0xe7)
        XCTAssertTrue(noOSXSAVE.isDisjoint(with: [.avx, .avx2, .fma, .f16c, .avx512f]))
        XCTAssertTrue(noOSXSAVE.isSuperset(of: [.sse42, .popcnt, .movbe, .bmi1, .bmi2, .lzcnt]))
        XCTAssertEqual(OpenBLASCore.Level(noOSXSAVE), .sse)

        XCTAssertEqual(CPUFeatures(leaf1ECX: 0, leaf7EBX: 0, extended1ECX: 0, xcr0: 0), [])
    }

    func testNamesWhatIsMissing() {
        XCTAssertEqual(Self.avx.missing(.haswellBaseline), ["AVX2", "FMA", "F16C", "MOVBE", "BMI1", "BMI2", "LZCNT"])
        XCTAssertEqual(Self.avx2.missing(.haswellBaseline), [])
        XCTAssertEqual(Self.avx2.missing([]), [])
        XCTAssertEqual(CPUFeatures([.avx2, .fma]).description, "AVX2 FMA")
    }

    func testThisProcessRunsWhatTheBuildRequires() {
        // The C constructor would have stopped the test binary otherwise; this checks the two agree.
        XCTAssertEqual(CPUFeatures.current.missing(CPUFeatures.requiredByBuild), [])
        #if arch(x86_64)
        XCTAssertTrue(CPUFeatures.current.isSuperset(of: [.sse42, .popcnt]))
        #if !DEBUG
        // Package.swift's swiftTargetCPU reaches the C check: a release build requires the Haswell baseline.
        XCTAssertEqual(CPUFeatures.requiredByBuild, .haswellBaseline)
        #endif
        #else
        XCTAssertEqual(CPUFeatures.current, [])
        #endif
        XCTAssertTrue(KernelSelection.summary.hasPrefix("OpenBLAS "), KernelSelection.summary)
    }

    // MARK: - Environment and summary

    static func state(core: String, coreType: String? = nil, ownChoice: String? = nil,
                      features: CPUFeatures = avx512, isX86: Bool = true, dynamicArch: Bool = true) -> KernelSelection.State {
        let arch = dynamicArch ? "DYNAMIC_ARCH " : ""
        return KernelSelection.State(features: features, isX86: isX86,
                                     openBLASConfig: "OpenBLAS 0.3.21 NO_LAPACKE \(arch)NO_AFFINITY \(core) MAX_THREADS=64",
                                     openBLASCore: core, coreType: coreType, ownChoice: ownChoice)
    }

    func testEnvironmentDefaults() {
        let forced = KernelSelection.environmentDefaults(Self.state(core: "Prescott"))
        XCTAssertEqual(forced.map(\.name), ["OPENBLAS_CORETYPE", "CLIPAD_OPENBLAS_OWN_CORETYPE"])
        XCTAssertEqual(forced.map(\.value), ["SkylakeX", "Prescott"])
        XCTAssertTrue(KernelSelection.environmentDefaults(Self.state(core: "Cooperlake")).isEmpty)
        XCTAssertTrue(KernelSelection.environmentDefaults(Self.state(core: "Prescott", coreType: "Prescott")).isEmpty)
        // After the re-exec: the forced value is set, so nothing more is asked for (no second re-exec).
        XCTAssertTrue(KernelSelection.environmentDefaults(
            Self.state(core: "SkylakeX", coreType: "SkylakeX", ownChoice: "Prescott")).isEmpty)
    }

    func testSummaryTable() {
        let cases: [(KernelSelection.State, String, UInt)] = [
            (Self.state(core: "SkylakeX", coreType: "SkylakeX", ownChoice: "Prescott"),
             "OpenBLAS 0.3.21 core SkylakeX (forced: OpenBLAS chose Prescott; cpuid AVX-512F/BW/DQ/VL)", #line),
            (Self.state(core: "Cooperlake"),
             "OpenBLAS 0.3.21 core Cooperlake (OpenBLAS's own choice; cpuid AVX-512F/BW/DQ/VL)", #line),
            (Self.state(core: "Haswell", coreType: "haswell"),
             "OpenBLAS 0.3.21 core Haswell (OPENBLAS_CORETYPE=haswell from the environment; cpuid AVX-512F/BW/DQ/VL)", #line),
            (Self.state(core: "Cooperlake", coreType: "bogus"),
             "OpenBLAS 0.3.21 core Cooperlake (OPENBLAS_CORETYPE=bogus not in effect; cpuid AVX-512F/BW/DQ/VL)", #line),
            (Self.state(core: "Prescott"),
             "OpenBLAS 0.3.21 core Prescott (OpenBLAS's own choice, narrower than this CPU: start with OPENBLAS_CORETYPE=SkylakeX; cpuid AVX-512F/BW/DQ/VL)", #line),
            (Self.state(core: "Haswell", features: Self.avx2, dynamicArch: false),
             "OpenBLAS 0.3.21 core Haswell (OpenBLAS built for one core; cpuid AVX2+FMA)", #line),
            (Self.state(core: "NEOVERSEN1", features: [], isX86: false),
             "OpenBLAS 0.3.21 core NEOVERSEN1 (OpenBLAS's own choice)", #line),
        ]
        for (state, expected, line) in cases {
            XCTAssertEqual(KernelSelection.summary(state), expected, line: line)
        }
    }
}
