#!/usr/bin/env python3
"""Writes a 4032x3072 16-bit well for the segmentation benchmark: the real 672x512 sample fields
tiled 6x6 (cycling through them in sorted order), scaled from 8 to 16 bit (x 257) plus a smooth
illumination gradient, as an uncompressed single-strip TIFF. Reads the fields with tools/tiffread.py (numpy)."""
import array, glob, os, struct, sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
from tiffread import read_tiff  # noqa: E402

def read_tiff8(path):
    a = read_tiff(path)
    if a.dtype != np.uint8:
        sys.exit(f"{path}: expected an 8-bit TIFF")
    return a.shape[1], a.shape[0], a.tobytes()

def main():
    src, out = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(src, '*.tif')))
    if not files:
        sys.exit(f"{src}: no .tif fields")
    fields = [read_tiff8(f) for f in files]
    fw, fh = fields[0][0], fields[0][1]
    W, H = 6 * fw, 6 * fh
    px = array.array('H', bytes(2 * W * H))
    for gy in range(6):
        for gx in range(6):
            _, _, data = fields[(gy * 6 + gx) % len(fields)]
            for y in range(fh):
                row = (gy * fh + y) * W + gx * fw
                gain = 1.0 + 0.3 * (gy * fh + y) / H
                px[row:row + fw] = array.array('H', (min(65535, int(v * 257 * gain)) for v in data[y * fw:(y + 1) * fw]))
    if sys.byteorder != 'little':
        px.byteswap()
    entries = [(256, 4, 1, W), (257, 4, 1, H), (258, 3, 1, 16), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, H), (279, 4, 1, 2 * W * H)]
    ifd_off = 8 + 2 * W * H
    with open(out, 'wb') as f:
        f.write(b'II*\x00' + struct.pack('<I', ifd_off))
        f.write(px.tobytes())
        f.write(struct.pack('<H', len(entries)))
        for tag, typ, cnt, val in entries:
            f.write(struct.pack('<HHI', tag, typ, cnt) + (struct.pack('<HH', val, 0) if typ == 3 else struct.pack('<I', val)))
        f.write(struct.pack('<I', 0))

main()
