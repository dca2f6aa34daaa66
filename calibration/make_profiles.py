"""Remake the example profiles in this folder from the sample clips' upright openings.

    .venv/bin/python calibration/make_profiles.py [SAMPLES_DIR]

Each clip that opens upright is calibrated with `posturewatch calibrate --from-video`
over its labelled upright opening (see adapters.labels.upright_opening).
"""

import sys
from pathlib import Path

from posturewatch.adapters.labels import labels_for, upright_opening
from posturewatch.app.cli import main

here = Path(__file__).resolve().parent
samples = Path(sys.argv[1]) if len(sys.argv) > 1 else here.parents[1] / "shared" / "sample_videos"
for clip in sorted(samples.glob("*.mp4")):
    opening = upright_opening(labels_for(clip))
    if opening is None:
        print(f"skip {clip.name}: does not open upright")
        continue
    out = here / f"{clip.stem}.json"
    code = main(["calibrate", "--from-video", str(clip), "--start", str(opening[0]),
                 "--end", str(opening[1]), "--profile", clip.stem, "--output", str(out), "--json"])
    if code:
        sys.exit(code)
