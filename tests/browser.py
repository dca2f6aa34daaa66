"""A real headless browser for the report tests: Chromium renders a page to a PNG.

Chromium is required, not optional: a missing one fails the test with the
command that installs it (`./dev test` and CI install it). It runs with a
throwaway profile and without any background networking; the pages it opens
are local files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

NAMES = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def chromium() -> str:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("the report tests need Chromium: run ./dev test, "
                       "or apt-get install -y chromium")


def screenshot(page: Path, size: tuple[int, int] = (1000, 2400)) -> np.ndarray:
    """The page as Chromium draws it: an RGB array of `size` (width, height)."""
    with tempfile.TemporaryDirectory(prefix="pw-chromium-") as tmp:
        out = Path(tmp) / "shot.png"
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={tmp}/profile",
             f"--window-size={size[0]},{size[1]}", f"--screenshot={out}",
             Path(page).resolve().as_uri()],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if not out.is_file():
            raise RuntimeError(f"chromium made no screenshot (exit {done.returncode}): "
                               f"{done.stderr[-2000:]}")
        image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def pixels_of(image: np.ndarray, hex_colour: str, tolerance: int = 6) -> int:
    """How many pixels are this colour (within `tolerance` per channel)."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.all(np.abs(image.astype(int) - rgb) <= tolerance, axis=2).sum())


def ink_rows(image: np.ndarray) -> np.ndarray:
    """For each pixel row, how many pixels are not (near) white."""
    return (image.min(axis=2) < 235).sum(axis=1)
