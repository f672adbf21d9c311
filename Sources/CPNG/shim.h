#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
// libpng's simplified API (png_image_*): errors come back in png_image.message, no setjmp.
#include <png.h>
#endif
