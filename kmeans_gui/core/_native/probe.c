/* A trivial export that lets the loader check the library is the one it expects. */
#include "native.h"

#define NATIVE_ABI_VERSION 1

EXPORT int64_t kmeans_native_abi(void) { return NATIVE_ABI_VERSION; }
