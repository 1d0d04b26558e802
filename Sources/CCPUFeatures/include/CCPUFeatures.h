// cpuid for ClipAD: what the processor and the operating system support, read without any instruction newer than
// the baseline x86-64 (this target is built without -mavx2 / -target-cpu, so it may run on any x86-64 before the
// Swift code, which a release build compiles for Haswell, touches an AVX2 register).
#ifndef CCPUFEATURES_H
#define CCPUFEATURES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The cpuid words the feature bits come from. All zero on a processor that is not x86-64.
typedef struct {
    uint32_t leaf1_ecx;       ///< cpuid(1).ecx: SSE3 ... AVX, FMA, F16C, MOVBE, POPCNT, OSXSAVE
    uint32_t leaf7_ebx;       ///< cpuid(7, 0).ebx: AVX2, BMI1/2, AVX-512 F/DQ/CD/BW/VL
    uint32_t leaf7_1_eax;     ///< cpuid(7, 1).eax: AVX-512 BF16
    uint32_t ext1_ecx;        ///< cpuid(0x80000001).ecx: LZCNT
    uint64_t xcr0;            ///< xgetbv(0) when OSXSAVE is set: which register states the OS saves
} clipad_cpuid_words;

/// Feature bits, decoded with the OS's register-state support folded in (an AVX bit without the OS saving YMM
/// registers is not reported), so a caller can use them as "safe to execute".
enum {
    CLIPAD_CPU_SSE42      = 1u << 0,
    CLIPAD_CPU_POPCNT     = 1u << 1,
    CLIPAD_CPU_AVX        = 1u << 2,
    CLIPAD_CPU_AVX2       = 1u << 3,
    CLIPAD_CPU_FMA        = 1u << 4,
    CLIPAD_CPU_F16C       = 1u << 5,
    CLIPAD_CPU_MOVBE      = 1u << 6,
    CLIPAD_CPU_BMI1       = 1u << 7,
    CLIPAD_CPU_BMI2       = 1u << 8,
    CLIPAD_CPU_LZCNT      = 1u << 9,
    CLIPAD_CPU_AVX512F    = 1u << 10,
    CLIPAD_CPU_AVX512DQ   = 1u << 11,
    CLIPAD_CPU_AVX512CD   = 1u << 12,
    CLIPAD_CPU_AVX512BW   = 1u << 13,
    CLIPAD_CPU_AVX512VL   = 1u << 14,
    CLIPAD_CPU_AVX512BF16 = 1u << 15,
};

enum {
    /// What `-target-cpu haswell` lets the compiler emit anywhere (LLVM's haswell feature list, less the
    /// instructions it never emits unasked: RDRAND, FSGSBASE, INVPCID, XSAVE).
    CLIPAD_CPU_HASWELL_BASELINE = CLIPAD_CPU_SSE42 | CLIPAD_CPU_POPCNT | CLIPAD_CPU_AVX | CLIPAD_CPU_AVX2 |
        CLIPAD_CPU_FMA | CLIPAD_CPU_F16C | CLIPAD_CPU_MOVBE | CLIPAD_CPU_BMI1 | CLIPAD_CPU_BMI2 | CLIPAD_CPU_LZCNT,
};

/// Reads this processor's cpuid words (all zero off x86-64).
clipad_cpuid_words clipad_cpuid_read(void);

/// Decodes words into CLIPAD_CPU_* bits (pure: tests feed it made-up words).
uint32_t clipad_cpu_features_decode(const clipad_cpuid_words *words);

/// The CLIPAD_CPU_* bits this build's Swift code needs: CLIPAD_CPU_HASWELL_BASELINE in an x86-64 release build
/// (compiled for Haswell), 0 otherwise.
uint32_t clipad_cpu_features_required(void);

/// Writes the names of the `required` bits missing from `present` ("AVX2 FMA") into `buffer`; returns their count.
int clipad_cpu_features_missing(uint32_t present, uint32_t required, char *buffer, int capacity);

#ifdef __cplusplus
}
#endif

#endif
