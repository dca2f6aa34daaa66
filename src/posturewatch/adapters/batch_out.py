"""A batch's output folder: NAME.json (and NAME.html) per input, summary.csv and summary.json.

Every file is written to a temporary file beside it and renamed into place, and
the temporary file is removed on any failure or interrupt: a file in the folder
is complete or absent. NAME.json is written last for its input, so a complete
NAME.json newer than the input means that input is done.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Sequence

from ..errors import OutputError
from .atomic import AtomicFile

SUMMARY_FORMAT = "posturewatch-batch-summary"
SUMMARY_VERSION = 1


def write_atomic(path: Path, text: str, what: str) -> None:
    """`path` holds `text` completely, or is left as it was (no temporary file left behind)."""
    with AtomicFile(path, what, newline="") as f:
        f.write(text)


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


class BatchOut:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.directory}: cannot create the output folder "
                              f"({exc.strerror or exc})") from None
        if not os.access(self.directory, os.W_OK):
            raise OutputError(f"{self.directory}: the output folder is not writable")

    def json_path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def html_path(self, name: str) -> Path:
        return self.directory / f"{name}.html"

    def finished(self, name: str, source: Path, html: bool) -> dict | None:
        """The analysis of an input done earlier: complete and newer than the input, else None."""
        out = self.json_path(name)
        try:
            newer = out.stat().st_mtime_ns > source.stat().st_mtime_ns
            if html:
                newer = newer and self.html_path(name).stat().st_mtime_ns > source.stat().st_mtime_ns
        except OSError:
            return None
        doc = _read_json(out) if newer else None
        return doc if doc is not None and {"source", "frames_analyzed"} <= set(doc) else None

    def write(self, name: str, doc: dict, html: str | None = None) -> Path:
        if html is not None:
            write_atomic(self.html_path(name), html, "the HTML report")
        path = self.json_path(name)
        write_atomic(path, json.dumps(doc, indent=2) + "\n", "the analysis")
        return path

    def previous_options(self) -> dict | None:
        doc = _read_json(self.directory / "summary.json")
        return doc.get("options") if doc and doc.get("format") == SUMMARY_FORMAT else None

    def write_summary(self, options: dict, columns: Sequence[str], rows: Sequence[dict]) -> None:
        counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "failed")}
        doc = {"format": SUMMARY_FORMAT, "version": SUMMARY_VERSION, "options": options,
               "counts": counts, "inputs": list(rows)}
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
        write_atomic(self.directory / "summary.csv", text.getvalue(), "the summary")
        write_atomic(self.directory / "summary.json", json.dumps(doc, indent=2) + "\n",
                     "the summary")
