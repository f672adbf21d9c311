#!/usr/bin/env python3
"""Independent pixel statistics for uncompressed greyscale TIFFs (no libtiff, no PIL).

Parses the TIFF structure with `struct` (tools/tiffread.py) and computes statistics with numpy; the Swift
test (Tests/ImagingTests/RealSampleTIFFTests.swift) compares libtiff-through-Swift reads
against this fixture.  Usage:
    tools/tiff_stats.py ../shared/data/netosis-sample/tiff > Tests/ImagingTests/Fixtures/real-field-stats.csv
"""
import os
import sys

import numpy as np

from tiffread import read_tiff

def main(folder):
    print("name,width,height,bits,min,max,sum,sum_squares,pixel_at_100_200,pixel_at_671_511")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tif"):
            continue
        image = read_tiff(os.path.join(folder, name))
        bits = 8 * image.dtype.itemsize
        v = image.astype(np.int64)
        print(f"{name},{image.shape[1]},{image.shape[0]},{bits},{v.min()},{v.max()},{v.sum()},"
              f"{(v * v).sum()},{v[200, 100]},{v[511, 671]}")


if __name__ == "__main__":
    main(sys.argv[1])
