"""Helpers for the daemon tests: calibration profiles fitted from a clip's upright opening."""

from __future__ import annotations

from pathlib import Path

import clips

from posturewatch.adapters import profiles
from posturewatch.core.session import fit_upright

SLOUCH_CLIP = "warp_selfie_woman_slouch_gradual"  # upright 0-12 s, slouched 20-35 s
UPRIGHT_CLIP = "warp_proctor_man_upright_steady"  # upright 45 s
LONG_CLIP = "warp_intel_man_mixed_session"  # 89 s


def make_profile(clip: str, upright_until_s: float, out: Path) -> Path:
    """A profile fitted from the clip's first seconds, as `calibrate` would make it."""
    upright = [o for o in clips.observations(clip) if o.present and o.t < upright_until_s]
    header_size = upright[0].pose.width, upright[0].pose.height
    profile = profiles.Profile("test", fit_upright(upright), "2026-01-01T00:00:00Z",
                               header_size, "full", clip)
    profiles.save_profile(profile, out)
    return out
