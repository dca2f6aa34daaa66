"""Per-frame CSV output: time, whether a person is present, every feature."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..core.features import FEATURE_NAMES
from ..core.observation import Observation
from ..errors import OutputError


class ObservationCsv:
    """Written to a temporary file and renamed into place when complete."""

    def __init__(self, path: str | Path, extra_columns: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.extra = extra_columns
        if self.path.is_dir():  # found now, not by the rename after the whole analysis
            raise OutputError(f"{self.path}: is a directory; give a file name for the CSV file")
        try:
            self.file = open(self.tmp, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the CSV file ({exc.strerror})") from exc
        self.writer = csv.writer(self.file)
        self.writer.writerow(["time_s", "present", *FEATURE_NAMES, *extra_columns])

    def write(self, obs: Observation, extra: tuple = ()) -> None:
        values = obs.features.as_dict() if obs.features else {}
        cells = ["" if values.get(n) is None else f"{values[n]:.6g}" for n in FEATURE_NAMES]
        self.writer.writerow([f"{obs.t:.3f}", int(obs.present), *cells, *extra])

    def __enter__(self) -> "ObservationCsv":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.file.close()
        if exc_type is not None:
            self.tmp.unlink(missing_ok=True)
            return
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot write the CSV file ({exc.strerror})") from exc
