#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// pkg-config's -I makes this the openblas-pthread cblas.h (with openblas_* extensions).
#include <cblas.h>
#endif
