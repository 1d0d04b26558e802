// Refuses to start, with one line and exit status 69 (EX_UNAVAILABLE), on an x86-64 processor that lacks what the
// Swift code of this build was compiled for, instead of dying later with SIGILL at the first AVX2 instruction.
//
// Why a constructor in C: a release build compiles every Swift target with -target-cpu haswell, so the compiler
// may use AVX2/VEX encodings anywhere in Swift code, main() included. This file is built for baseline x86-64 and
// runs before main (the loader calls constructors first), so no Swift code of ours has run when it checks.
#include "CCPUFeatures.h"

#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void clipad_require_build_features(void) {
    uint32_t required = clipad_cpu_features_required();
    if (!required) return;
    clipad_cpuid_words words = clipad_cpuid_read();
    char missing[160];
    if (clipad_cpu_features_missing(clipad_cpu_features_decode(&words), required, missing, sizeof missing) == 0)
        return;
    fprintf(stderr,
            "clipad: this build needs an x86-64 CPU with AVX2, FMA, BMI1/2, LZCNT, MOVBE and F16C (Intel Haswell, "
            "AMD Excavator/Zen or newer); this CPU or its OS lacks %s. Rebuild without -target-cpu haswell "
            "(swiftTargetCPU = nil in Package.swift) to run here.\n",
            missing);
    exit(69);
}
