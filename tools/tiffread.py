"""A tiny greyscale TIFF reader for the Python tools: struct + numpy, no libtiff (so it stays an
independent check of what the Swift side reads through libtiff). Classic TIFF, one sample per pixel,
8- or 16-bit, strips, uncompressed or deflate (with or without horizontal predictor)."""
import struct
import zlib

import numpy as np


def read_tiff(path):
    """Returns the first page as a numpy array [height, width] (uint8 or uint16)."""
    f = open(path, 'rb').read()
    bo = {b'II': '<', b'MM': '>'}.get(f[:2])
    if bo is None or struct.unpack(bo + 'H', f[2:4])[0] != 42:
        raise SystemExit(f"{path}: not a classic TIFF")
    off = struct.unpack(bo + 'I', f[4:8])[0]
    n = struct.unpack(bo + 'H', f[off:off + 2])[0]
    tags = {}
    for i in range(n):
        e = off + 2 + 12 * i
        tag, typ, cnt = struct.unpack(bo + 'HHI', f[e:e + 8])
        if typ == 3 and cnt == 1:
            val = struct.unpack(bo + 'H', f[e + 8:e + 10])[0]
        else:
            val = struct.unpack(bo + 'I', f[e + 8:e + 12])[0]
        tags[tag] = (typ, cnt, val)
    w, h, bits = tags[256][2], tags[257][2], tags[258][2]
    compression = tags.get(259, (0, 0, 1))[2]
    predictor = tags.get(317, (0, 0, 1))[2]
    if compression not in (1, 8, 32946):
        raise SystemExit(f"{path}: TIFF compression {compression}; this reader handles none and deflate")
    typ, cnt, val = tags[273]
    _, _, bval = tags[279]
    if cnt == 1:
        offsets, counts = [val], [bval]
    else:
        offsets = list(struct.unpack(bo + ('I' * cnt), f[val:val + 4 * cnt]))
        counts = list(struct.unpack(bo + ('I' * cnt), f[bval:bval + 4 * cnt]))
    strips = [f[o:o + c] for o, c in zip(offsets, counts)]
    if compression != 1:
        strips = [zlib.decompress(s) for s in strips]
    dt = np.uint8 if bits == 8 else np.dtype(bo + 'u2')
    a = np.frombuffer(b''.join(strips)[:w * h * bits // 8], dtype=dt).reshape(h, w)
    if predictor == 2:  # horizontal differencing
        a = np.cumsum(a.astype(np.uint64), axis=1).astype(a.dtype)
    return a
