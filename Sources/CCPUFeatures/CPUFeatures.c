#include "CCPUFeatures.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void cpuid_count(uint32_t leaf, uint32_t subleaf, uint32_t r[4]) {
    r[0] = r[1] = r[2] = r[3] = 0;
    __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
}

// xgetbv as bytes: the assembler mnemonic needs -mxsave, which this target deliberately does not enable.
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

clipad_cpuid_words clipad_cpuid_read(void) {
    clipad_cpuid_words w;
    memset(&w, 0, sizeof w);
#if defined(__x86_64__) || defined(__i386__)
    uint32_t r[4];
    cpuid_count(0, 0, r);
    uint32_t maxLeaf = r[0];
    cpuid_count(1, 0, r);
    w.leaf1_ecx = r[2];
    if (maxLeaf >= 7) {
        cpuid_count(7, 0, r);
        w.leaf7_ebx = r[1];
        uint32_t maxSubleaf = r[0];
        if (maxSubleaf >= 1) {
            cpuid_count(7, 1, r);
            w.leaf7_1_eax = r[0];
        }
    }
    cpuid_count(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u) {
        cpuid_count(0x80000001u, 0, r);
        w.ext1_ecx = r[2];
    }
    if (w.leaf1_ecx & (1u << 27)) w.xcr0 = xgetbv0();  // OSXSAVE: xgetbv is allowed
#endif
    return w;
}

uint32_t clipad_cpu_features_decode(const clipad_cpuid_words *w) {
    uint32_t f = 0;
    uint32_t c1 = w->leaf1_ecx, b7 = w->leaf7_ebx;
    if (c1 & (1u << 20)) f |= CLIPAD_CPU_SSE42;
    if (c1 & (1u << 23)) f |= CLIPAD_CPU_POPCNT;
    if (c1 & (1u << 22)) f |= CLIPAD_CPU_MOVBE;
    if (b7 & (1u << 3)) f |= CLIPAD_CPU_BMI1;
    if (b7 & (1u << 8)) f |= CLIPAD_CPU_BMI2;
    if (w->ext1_ecx & (1u << 5)) f |= CLIPAD_CPU_LZCNT;
    // VEX/EVEX instructions fault unless the OS saves the registers: XMM+YMM (XCR0 bits 1-2), and for AVX-512 also
    // the opmask and upper ZMM states (bits 5-7). A hypervisor may show the cpuid bits with the state off.
    int osYMM = (c1 & (1u << 27)) && (w->xcr0 & 0x6) == 0x6;
    int osZMM = osYMM && (w->xcr0 & 0xe0) == 0xe0;
    if (osYMM) {
        if (c1 & (1u << 28)) f |= CLIPAD_CPU_AVX;
        if (c1 & (1u << 12)) f |= CLIPAD_CPU_FMA;
        if (c1 & (1u << 29)) f |= CLIPAD_CPU_F16C;
        if (b7 & (1u << 5)) f |= CLIPAD_CPU_AVX2;
    }
    if (osZMM) {
        if (b7 & (1u << 16)) f |= CLIPAD_CPU_AVX512F;
        if (b7 & (1u << 17)) f |= CLIPAD_CPU_AVX512DQ;
        if (b7 & (1u << 28)) f |= CLIPAD_CPU_AVX512CD;
        if (b7 & (1u << 30)) f |= CLIPAD_CPU_AVX512BW;
        if (b7 & (1u << 31)) f |= CLIPAD_CPU_AVX512VL;
        if (w->leaf7_1_eax & (1u << 5)) f |= CLIPAD_CPU_AVX512BF16;
    }
    return f;
}

uint32_t clipad_cpu_features_required(void) {
#if defined(CLIPAD_SWIFT_TARGETS_HASWELL)
    return CLIPAD_CPU_HASWELL_BASELINE;
#else
    return 0;
#endif
}

static const struct { uint32_t bit; const char *name; } names[] = {
    {CLIPAD_CPU_SSE42, "SSE4.2"}, {CLIPAD_CPU_POPCNT, "POPCNT"}, {CLIPAD_CPU_AVX, "AVX"},
    {CLIPAD_CPU_AVX2, "AVX2"}, {CLIPAD_CPU_FMA, "FMA"}, {CLIPAD_CPU_F16C, "F16C"}, {CLIPAD_CPU_MOVBE, "MOVBE"},
    {CLIPAD_CPU_BMI1, "BMI1"}, {CLIPAD_CPU_BMI2, "BMI2"}, {CLIPAD_CPU_LZCNT, "LZCNT"},
    {CLIPAD_CPU_AVX512F, "AVX512F"}, {CLIPAD_CPU_AVX512DQ, "AVX512DQ"}, {CLIPAD_CPU_AVX512CD, "AVX512CD"},
    {CLIPAD_CPU_AVX512BW, "AVX512BW"}, {CLIPAD_CPU_AVX512VL, "AVX512VL"}, {CLIPAD_CPU_AVX512BF16, "AVX512BF16"},
};

int clipad_cpu_features_missing(uint32_t present, uint32_t required, char *buffer, int capacity) {
    int count = 0;
    size_t used = 0;
    if (capacity > 0) buffer[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(required & names[i].bit) || (present & names[i].bit)) continue;
        count++;
        size_t length = strlen(names[i].name) + (used ? 1 : 0);
        if (capacity <= 0 || used + length + 1 > (size_t)capacity) continue;
        if (used) buffer[used++] = ' ';
        memcpy(buffer + used, names[i].name, strlen(names[i].name) + 1);
        used += strlen(names[i].name);
    }
    return count;
}
