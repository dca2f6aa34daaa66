"""Per-frame CSV output: time, whether a person is present, every feature."""

from __future__ import annotations

import csv
from pathlib import Path

from ..core.features import FEATURE_NAMES
from ..core.observation import Observation
from .atomic import AtomicFile


class ObservationCsv:
    """Written through an AtomicFile: complete and renamed into place, or not there at all."""

    def __init__(self, path: str | Path, extra_columns: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.extra = extra_columns
        self.out = AtomicFile(self.path, "the CSV file", newline="")
        self.writer = csv.writer(self.out)  # csv calls self.out.write: OSError -> OutputError
        try:
            self.writer.writerow(["time_s", "present", *FEATURE_NAMES, *extra_columns])
        except BaseException:  # no `with` has started yet to clean up
            self.out.abort()
            raise

    def write(self, obs: Observation, extra: tuple = ()) -> None:
        values = obs.features.as_dict() if obs.features else {}
        cells = ["" if values.get(n) is None else f"{values[n]:.6g}" for n in FEATURE_NAMES]
        self.writer.writerow([f"{obs.t:.3f}", int(obs.present), *cells, *extra])

    def __enter__(self) -> "ObservationCsv":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.out.__exit__(exc_type, *rest)
