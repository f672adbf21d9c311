#!/usr/bin/env python3
"""Independent pixel statistics for uncompressed greyscale TIFFs (no libtiff, no PIL).

Parses the TIFF structure with `struct` and computes statistics with numpy; the Swift
test (Tests/ImagingTests/RealSampleTIFFTests.swift) compares libtiff-through-Swift reads
against this fixture.  Usage:
    tools/tiff_stats.py ../shared/data/netosis-sample/tiff > Tests/ImagingTests/Fixtures/real-field-stats.csv
"""
import os
import struct
import sys

import numpy as np

TYPES = {3: ("H", 2), 4: ("I", 4)}


def read_tiff(path):
    data = open(path, "rb").read()
    order = {b"II": "<", b"MM": ">"}[data[:2]]
    (magic,) = struct.unpack(order + "H", data[2:4])
    assert magic == 42, f"{path}: not a classic TIFF"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    tags = {}
    for i in range(count):
        entry = data[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
        tag, kind, n = struct.unpack(order + "HHI", entry[:8])
        fmt, size = TYPES[kind]
        raw = entry[8:12] if n * size <= 4 else data[struct.unpack(order + "I", entry[8:12])[0]:][: n * size]
        tags[tag] = struct.unpack(order + fmt * n, raw[: n * size])
    width, height, bits = tags[256][0], tags[257][0], tags[258][0]
    assert tags.get(259, (1,))[0] == 1, f"{path}: compressed; this reader only does uncompressed"
    dtype = np.dtype(order + ("u1" if bits == 8 else "u2"))
    pixels = b"".join(data[o:o + c] for o, c in zip(tags[273], tags[279]))
    return np.frombuffer(pixels, dtype=dtype, count=width * height).reshape(height, width), bits


def main(folder):
    print("name,width,height,bits,min,max,sum,sum_squares,pixel_at_100_200,pixel_at_671_511")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tif"):
            continue
        image, bits = read_tiff(os.path.join(folder, name))
        v = image.astype(np.int64)
        print(f"{name},{image.shape[1]},{image.shape[0]},{bits},{v.min()},{v.max()},{v.sum()},"
              f"{(v * v).sum()},{v[200, 100]},{v[511, 671]}")


if __name__ == "__main__":
    main(sys.argv[1])
