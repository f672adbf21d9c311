#ifndef CTURBOJPEG_SHIM_H
#define CTURBOJPEG_SHIM_H
// libjpeg-turbo's TurboJPEG API: errors come back as strings (tjGetErrorStr2), no setjmp.
#include <turbojpeg.h>
#endif
