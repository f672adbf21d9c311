#include "CShims.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cshims_tiff_set_u16(TIFF *tif, uint32_t tag, uint16_t v) { return TIFFSetField(tif, tag, v); }
int cshims_tiff_set_u32(TIFF *tif, uint32_t tag, uint32_t v) { return TIFFSetField(tif, tag, v); }
int cshims_tiff_set_str(TIFF *tif, uint32_t tag, const char *v) { return TIFFSetField(tif, tag, v); }
int cshims_tiff_get_u16(TIFF *tif, uint32_t tag, uint16_t *v) { return TIFFGetField(tif, tag, v); }
int cshims_tiff_get_u32(TIFF *tif, uint32_t tag, uint32_t *v) { return TIFFGetField(tif, tag, v); }
int cshims_tiff_get_defaulted_u16(TIFF *tif, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(tif, tag, v); }
int cshims_tiff_get_str(TIFF *tif, uint32_t tag, const char **v) { return TIFFGetField(tif, tag, v); }

static _Thread_local char last_error[512];

static void on_error(const char *module, const char *fmt, va_list ap) {
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (last_error[0] == 0) snprintf(last_error, sizeof last_error, "%s", msg);  // keep the first cause
}
static void on_warning(const char *module, const char *fmt, va_list ap) { (void)module; (void)fmt; (void)ap; }

void cshims_tiff_capture_messages(void) {
    TIFFSetErrorHandler(on_error);
    TIFFSetWarningHandler(on_warning);
}
const char *cshims_tiff_last_error(void) { return last_error; }
void cshims_tiff_clear_error(void) { last_error[0] = 0; }
