#!/usr/bin/env python3
"""Write Tests/ImagingTests/Fixtures/colour/: small colour images for the RGB readers' tests.

rgb.png / rgb.tif: an 8×6 RGB pattern (R = 30·x, G = 40·y, B = 255 − 20·(x + y)), exact;
rgb.jpg: the same at quality 100 without chroma subsampling (values within a few levels);
truncated.jpg: rgb.jpg cut in the middle of its scan data;
rgba.png: the pattern with alpha 255 (composited: the same pixels); grey.png, grey.jpg: greyscale;
rgb16.png: a 16-bit RGB PNG; cmyk.jpg: a CMYK JPEG;
corrupt.png: a PNG signature and header followed by garbage.
Needs Pillow (e.g. /tmp/torch-venv/bin/python tools/make_colour_fixtures.py).
"""
import os
import struct
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ImagingTests", "Fixtures", "colour")
W, H = 8, 6


def pattern():
    img = Image.new("RGB", (W, H))
    img.putdata([(30 * x, 40 * y, 255 - 20 * (x + y)) for y in range(H) for x in range(W)])
    return img


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png16():
    rows = b"".join(b"\x00" + b"".join(struct.pack(">HHH", 3000 * x, 4000 * y, 60000) for x in range(W)) for y in range(H))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    img = pattern()
    img.save(os.path.join(OUT, "rgb.png"))
    img.save(os.path.join(OUT, "rgb.tif"))
    img.save(os.path.join(OUT, "rgb.jpg"), quality=100, subsampling=0)
    rgba = img.copy()
    rgba.putalpha(255)
    rgba.save(os.path.join(OUT, "rgba.png"))
    img.convert("L").save(os.path.join(OUT, "grey.png"))
    img.convert("L").save(os.path.join(OUT, "grey.jpg"), quality=95)
    img.convert("CMYK").save(os.path.join(OUT, "cmyk.jpg"), quality=95)
    with open(os.path.join(OUT, "rgb16.png"), "wb") as f:
        f.write(png16())
    jpg = open(os.path.join(OUT, "rgb.jpg"), "rb").read()
    with open(os.path.join(OUT, "truncated.jpg"), "wb") as f:
        sos = jpg.index(b"\xff\xda")
        f.write(jpg[: (sos + len(jpg)) // 2])
    good = open(os.path.join(OUT, "rgb.png"), "rb").read()
    with open(os.path.join(OUT, "corrupt.png"), "wb") as f:
        f.write(good[:33] + bytes((i * 37) & 0xFF for i in range(200)))
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
