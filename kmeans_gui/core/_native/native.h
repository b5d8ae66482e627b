/* Shared by the C kernels: exported-symbol marker and fixed-width types. */
#ifndef KMEANS_NATIVE_H
#define KMEANS_NATIVE_H

#include <stdint.h>
#include <stddef.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

#endif
