#ifndef CSHIMS_H
#define CSHIMS_H
#include <stdint.h>
#include <tiffio.h>
// libtiff's TIFFGetField/TIFFSetField are variadic, which Swift cannot call.
// One fixed-signature wrapper per value type we use.
int cshims_tiff_set_u16(TIFF *tif, uint32_t tag, uint16_t value);
int cshims_tiff_set_u32(TIFF *tif, uint32_t tag, uint32_t value);
int cshims_tiff_set_str(TIFF *tif, uint32_t tag, const char *value);
int cshims_tiff_get_u16(TIFF *tif, uint32_t tag, uint16_t *value);
int cshims_tiff_get_u32(TIFF *tif, uint32_t tag, uint32_t *value);
int cshims_tiff_get_defaulted_u16(TIFF *tif, uint32_t tag, uint16_t *value);
int cshims_tiff_get_str(TIFF *tif, uint32_t tag, const char **value);
// Route libtiff's warning/error printf-style callbacks into a per-thread buffer,
// so Swift can attach the text to its error values instead of spraying stderr.
void cshims_tiff_capture_messages(void);
const char *cshims_tiff_last_error(void);
void cshims_tiff_clear_error(void);
#endif
