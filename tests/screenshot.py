"""A screenshot of the virtual screen (`xwd -root`, from x11-apps) as an RGB numpy array."""

from __future__ import annotations

import struct
import subprocess

import numpy as np

HEADER = struct.Struct(">25I")


def screenshot(env: dict[str, str]) -> np.ndarray:
    """The whole X screen of env["DISPLAY"] as an (height, width, 3) uint8 RGB array."""
    data = subprocess.run(["xwd", "-root", "-silent"], env=env, capture_output=True, check=True,
                          timeout=20).stdout
    return parse_xwd(data)


def parse_xwd(data: bytes) -> np.ndarray:
    (header_size, _, _, depth, width, height, _, byte_order, _, _, _, bpp, line, _,
     red, green, blue, _, _, ncolors, *_) = HEADER.unpack_from(data)
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data, np.uint8, count=height * line, offset=start).reshape(height, line)
    step = 4 if line >= width * 4 else 3  # Xvfb says 24 bits a pixel but stores 32
    if depth != 24 or (step == 3 and bpp != 24):
        raise ValueError(f"expected a 24-bit colour screen, got depth {depth}, {bpp} bits")
    cells = rows[:, :width * step].reshape(height, width, step).astype(np.uint32)
    if byte_order != 0:  # MSB first
        cells = cells[:, :, ::-1]
    raw = sum(cells[:, :, i] << (8 * i) for i in range(step))
    channels = [(raw & mask) >> (int(mask).bit_length() - 8) for mask in (red, green, blue)]
    return np.stack(channels, axis=-1).astype(np.uint8)


def pixels_of(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels have this colour (within `tolerance` per channel)."""
    return int((np.abs(image.astype(int) - rgb) <= tolerance).all(axis=-1).sum())
