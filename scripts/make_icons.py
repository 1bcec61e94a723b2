"""Draw the ContentFlow app icons as real PNGs (standard library only).

Run: python scripts/make_icons.py  -> static/icons/*.png (committed; rerun after a change).
The mark is a white play triangle over three rising bars on the brand teal.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
MINT = (153, 246, 228)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def png(width: int, height: int, pixels: list[bytes]) -> bytes:
    raw = b"".join(b"\x00" + row for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def inside_rounded(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def inside_triangle(x: float, y: float, s: float, ox: float, oy: float) -> bool:
    # Play triangle pointing right, centred at (ox, oy), half-height s.
    ax, ay, bx, by, cx, cy = ox - 0.8 * s, oy - s, ox - 0.8 * s, oy + s, ox + s, oy

    def sign(px, py, qx, qy, rx, ry):
        return (px - rx) * (qy - ry) - (qx - rx) * (py - ry)

    d1, d2, d3 = sign(x, y, ax, ay, bx, by), sign(x, y, bx, by, cx, cy), sign(x, y, cx, cy, ax, ay)
    return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))


def colour_at(x: float, y: float, *, full_bleed: bool, scale: float) -> tuple[int, int, int, int]:
    if not full_bleed and not inside_rounded(x, y, 0.22):
        return (0, 0, 0, 0)
    # Content is drawn in a centred box of size `scale` (maskable icons keep a safe zone).
    u, v = (x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5
    if inside_triangle(u, v, 0.2, 0.44, 0.42):
        return (*WHITE, 255)
    for i, height in enumerate((0.08, 0.13, 0.18)):
        left = 0.3 + i * 0.15
        if left <= u <= left + 0.1 and 0.8 - height <= v <= 0.8:
            return (*MINT, 255)
    return (*TEAL, 255)


def draw(size: int, *, full_bleed: bool, scale: float, samples: int = 3) -> bytes:
    rows = []
    step = 1.0 / (size * samples)
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour_at((px * samples + sx + 0.5) * step, (py * samples + sy + 0.5) * step,
                                  full_bleed=full_bleed, scale=scale)
                    # Premultiply so transparent edges do not darken.
                    acc[0] += c[0] * c[3]
                    acc[1] += c[1] * c[3]
                    acc[2] += c[2] * c[3]
                    acc[3] += c[3]
            alpha = acc[3] / (samples * samples)
            if acc[3]:
                row += bytes((round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]), round(alpha)))
            else:
                row += b"\x00\x00\x00\x00"
        rows.append(bytes(row))
    return png(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    targets = {
        "icon-192.png": dict(size=192, full_bleed=False, scale=1.0),
        "icon-512.png": dict(size=512, full_bleed=False, scale=1.0),
        "icon-maskable-512.png": dict(size=512, full_bleed=True, scale=0.72),
        "apple-touch-icon.png": dict(size=180, full_bleed=True, scale=0.85),
    }
    for name, spec in targets.items():
        (OUT / name).write_bytes(draw(spec["size"], full_bleed=spec["full_bleed"], scale=spec["scale"]))
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
