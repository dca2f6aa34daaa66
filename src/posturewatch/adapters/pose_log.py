"""Pose logs: the landmarks of a session with their times, no images, as JSONL.

Line 1 is a header: {"format": "posturewatch-poselog", "version": 1,
"parts": [...], "source": {...}, "model": {...}}. Every further line is one
analysed frame: {"t": seconds, "lm": [[x, y, z, visibility], ...] | null,
"w": [[x, y, z, visibility], ...] | null}, the rows in the header's part order.
Replaying a log gives exactly the poses the estimator produced.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..core.pose import PARTS, Landmark, Part, Pose, TimedPose
from ..errors import BadPoseLog, InputNotFound, OutputError
from ..ports import SourceInfo

FORMAT = "posturewatch-poselog"
VERSION = 1


@dataclass(frozen=True)
class PoseLogHeader:
    source: SourceInfo
    model: dict  # {"variant": ..., "path": ...}
    sample_fps: float = 0.0


def _rows(marks) -> list | None:
    if marks is None:
        return None
    return [[m.x, m.y, m.z, m.visibility] for m in (marks[p] for p in PARTS)]


def encode_pose(timed: TimedPose) -> str:
    pose = timed.pose
    record = {"t": round(timed.t, 6), "lm": None, "w": None}
    if pose is not None:
        record.update(size=[pose.width, pose.height], lm=_rows(pose.landmarks), w=_rows(pose.world))
    return json.dumps(record, separators=(",", ":"))


def encode_header(header: PoseLogHeader) -> str:
    s = header.source
    return json.dumps({
        "format": FORMAT, "version": VERSION, "parts": [p.value for p in PARTS],
        "source": {"path": s.path, "fps": s.fps, "frame_count": s.frame_count,
                   "width": s.width, "height": s.height},
        "model": header.model, "sample_fps": header.sample_fps,
    })


class PoseLogWriter:
    """Writes to `path.tmp` and renames on close, so a crash never leaves half a log."""

    def __init__(self, path: str | Path, header: PoseLogHeader) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        if self.path.is_dir():  # found now, not by the rename after the whole session
            raise OutputError(f"{self.path}: is a directory; give a file name for the pose log")
        try:
            self.file: IO[str] = open(self.tmp, "w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the pose log ({exc.strerror})") from exc
        self.file.write(encode_header(header) + "\n")

    def write(self, timed: TimedPose) -> None:
        self.file.write(encode_pose(timed) + "\n")

    def close(self) -> None:
        self.file.close()
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot write the pose log ({exc.strerror})") from exc

    def abort(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "PoseLogWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close() if exc_type is None else self.abort()


def _bad(path: Path, line: int, why: str) -> BadPoseLog:
    return BadPoseLog(f"{path}:{line}: not a valid posturewatch pose log ({why})")


def _parse_header(path: Path, text: bytes) -> tuple[PoseLogHeader, list[Part]]:
    try:
        head = json.loads(text)
        if head.get("format") != FORMAT:
            raise _bad(path, 1, f"the first line must have \"format\": \"{FORMAT}\"")
        if head.get("version") != VERSION:
            raise _bad(path, 1, f"version {head.get('version')!r} is not supported (expected {VERSION})")
        parts = [Part(name) for name in head["parts"]]
        s = head["source"]
        source = SourceInfo(str(s["path"]), float(s["fps"]), int(s["frame_count"]),
                            int(s["width"]), int(s["height"]))
        return PoseLogHeader(source, dict(head.get("model") or {}),
                             float(head.get("sample_fps", 0.0))), parts
    except BadPoseLog:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _bad(path, 1, f"bad header: {exc}") from exc


def _marks(rows, parts: list[Part]) -> dict[Part, Landmark] | None:
    if rows is None:
        return None
    if len(rows) != len(parts):
        raise ValueError(f"{len(rows)} landmarks, expected {len(parts)}")
    return {part: Landmark(*map(float, row)) for part, row in zip(parts, rows)}


def _parse_pose(text: bytes, parts: list[Part]) -> TimedPose:
    record = json.loads(text)
    landmarks = _marks(record["lm"], parts)
    if landmarks is None:
        return TimedPose(float(record["t"]))
    width, height = record["size"]
    return TimedPose(float(record["t"]), Pose(int(width), int(height), landmarks,
                                              _marks(record.get("w"), parts)))


def is_pose_log(path: str | Path) -> bool:
    """A cheap test by name first, then by the first bytes."""
    path = Path(path)
    if path.suffix in (".jsonl", ".poselog"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip().startswith(b'{"format": "' + FORMAT.encode())
    except OSError:
        return False


class PoseLogReader:
    """Reads a pose log; `header` is parsed on open, poses as you iterate."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputNotFound(f"{self.path}: no such file" if not self.path.exists()
                                else f"{self.path}: is not a file")
        try:
            # Bytes, decoded line by line by json.loads: text that is not UTF-8
            # is then a ValueError naming its line, wherever it is in the file.
            self.file: IO[bytes] = open(self.path, "rb")
            first = self.file.readline()
        except PermissionError as exc:
            raise InputNotFound(f"{self.path}: permission denied") from exc
        except OSError as exc:
            raise InputNotFound(f"{self.path}: cannot read the pose log ({exc.strerror or exc})") from exc
        self.header, self.parts = _parse_header(self.path, first)

    def __iter__(self) -> Iterator[TimedPose]:
        last_t = float("-inf")
        for number, line in enumerate(self.file, start=2):
            if not line.strip():
                continue
            try:
                timed = _parse_pose(line, self.parts)
            except (ValueError, KeyError, TypeError) as exc:
                raise _bad(self.path, number, str(exc)) from exc
            if timed.t < last_t:
                raise _bad(self.path, number, "times must not go backwards")
            last_t = timed.t
            yield timed

    def close(self) -> None:
        self.file.close()


def write_pose_log(path: str | Path, header: PoseLogHeader, poses: Iterable[TimedPose]) -> None:
    with PoseLogWriter(path, header) as writer:
        for timed in poses:
            writer.write(timed)
