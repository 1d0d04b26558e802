// Header-only shim: the driver itself comes from libFuzzer (-sanitize=fuzzer).
#include "CFuzzDriver.h"
