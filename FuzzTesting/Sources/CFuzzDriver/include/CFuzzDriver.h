#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, exported since LLVM 11): parses the libFuzzer flags in argv and runs `callback`.
/// The harnesses call it from their own entry point because SwiftPM renames an executable's `main` on Linux.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
