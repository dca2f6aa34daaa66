"""Pose logs: the landmarks of a session with their times, no images, as JSONL.

Line 1 is a header: {"format": "posturewatch-poselog", "version": 1,
"parts": [...], "source": {...}, "model": {...}}. Every further line is one
analysed frame: {"t": seconds, "lm": [[x, y, z, visibility], ...] | null,
"w": [[x, y, z, visibility], ...] | null}, the rows in the header's part order.
Replaying a log gives exactly the poses the estimator produced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..core.pose import PARTS, Landmark, Part, Pose, TimedPose
from ..errors import BadPoseLog, InputNotFound
from ..ports import SourceInfo
from . import strict_json
from .atomic import AtomicFile
from .strict_json import show

FORMAT = "posturewatch-poselog"
VERSION = 1
# What a pose log may hold; far beyond any real recording, small enough that
# every feature and report computed from it stays a finite number.
MAX_FPS = 1000.0
MAX_FRAMES = 10**10
MAX_SIZE_PX = 100_000
MAX_COORD = 1000.0  # normalised image coordinates, or metres for world landmarks
MAX_SECONDS = 1e9
MAX_LINE_BYTES = 1 << 20  # a pose is about 2.5 kB


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
    """Writes through an AtomicFile, so a crash, a full disk or SIGTERM never leaves half a log."""

    def __init__(self, path: str | Path, header: PoseLogHeader) -> None:
        self.path = Path(path)
        self.out = AtomicFile(self.path, "the pose log")
        try:
            self.out.write(encode_header(header) + "\n")
        except BaseException:  # no `with` has started yet to clean up
            self.out.abort()
            raise

    def write(self, timed: TimedPose) -> None:
        self.out.write(encode_pose(timed) + "\n")

    def close(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.abort()

    def __enter__(self) -> "PoseLogWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close() if exc_type is None else self.abort()


def _bad(path: Path, line: int, why: str) -> BadPoseLog:
    return BadPoseLog(f"{path}:{line}: not a valid posturewatch pose log ({why})")


def _number(value, what: str, low: float, high: float) -> float:
    """A JSON number within [low, high]; ValueError naming `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {show(value)}")
    if not low <= value <= high:  # also false for NaN; compares huge ints exactly
        raise ValueError(f"{what} must be from {low:g} to {high:g}, got {show(value)}")
    return float(value)


def _whole(value, what: str, low: int, high: int) -> int:
    number = _number(value, what, low, high)
    if number != int(number):
        raise ValueError(f"{what} must be a whole number, got {show(value)}")
    return int(number)


def _parts(names) -> list[Part]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f'"parts" must be a list of body-part names, got {show(names)}')
    parts = [Part(name) for name in names]
    if len(set(parts)) != len(parts):
        raise ValueError('"parts" names a body part twice')
    return parts


def _source(s) -> SourceInfo:
    if not isinstance(s, dict):
        raise ValueError(f'"source" must be an object, got {show(s)}')
    if not isinstance(s.get("path"), str):
        raise ValueError(f'"source.path" must be a string, got {show(s.get("path"))}')
    return SourceInfo(s["path"], _number(s.get("fps"), "source.fps", 0, MAX_FPS),
                      _whole(s.get("frame_count"), "source.frame_count", 0, MAX_FRAMES),
                      _whole(s.get("width"), "source.width", 0, MAX_SIZE_PX),
                      _whole(s.get("height"), "source.height", 0, MAX_SIZE_PX))


def _model(model) -> dict:
    """Only the keys we use, each a string or null (it is echoed by `analyze --json`)."""
    model = {} if model is None else model
    if not isinstance(model, dict):
        raise ValueError(f'"model" must be an object, got {show(model)}')
    return {key: model.get(key) if isinstance(model.get(key), str) else None
            for key in ("variant", "path")}


def _parse_header(path: Path, text: bytes) -> tuple[PoseLogHeader, list[Part]]:
    try:
        head = strict_json.loads(text)
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise _bad(path, 1, f"the first line must have \"format\": \"{FORMAT}\"")
        if head.get("version") != VERSION:
            raise _bad(path, 1, f"version {show(head.get('version'))} is not supported "
                       f"(expected {VERSION})")
        parts = _parts(head.get("parts"))
        sample_fps = _number(head.get("sample_fps", 0.0), "sample_fps", 0, MAX_FPS)
        return PoseLogHeader(_source(head.get("source")), _model(head.get("model")),
                             sample_fps), parts
    except ValueError as exc:
        raise _bad(path, 1, f"bad header: {exc}") from None


_NUMBER_TYPES = (float, int)  # by exact type: a bool is not a coordinate


def _landmark(row) -> Landmark:
    # The hot path of a replay (30 of these a line): plain comparisons, no helper calls.
    if type(row) is list and len(row) == 4:
        x, y, z, v = row
        if (type(x) in _NUMBER_TYPES and type(y) in _NUMBER_TYPES and type(z) in _NUMBER_TYPES
                and type(v) in _NUMBER_TYPES and -MAX_COORD <= x <= MAX_COORD
                and -MAX_COORD <= y <= MAX_COORD and -MAX_COORD <= z <= MAX_COORD):
            return Landmark(float(x), float(y), float(z), float(v))  # checks visibility
    raise ValueError(f"a landmark must be [x, y, z, visibility] with coordinates within "
                     f"±{MAX_COORD:g}, got {show(row)}")


def _marks(rows, parts: list[Part]) -> dict[Part, Landmark] | None:
    if rows is None:
        return None
    if not isinstance(rows, list) or len(rows) != len(parts):
        raise ValueError(f"{len(rows) if isinstance(rows, list) else show(rows)} landmarks, "
                         f"expected {len(parts)}")
    return {part: _landmark(row) for part, row in zip(parts, rows)}


def _parse_pose(text: bytes, parts: list[Part]) -> TimedPose:
    # Landmark and TimedPose check that their numbers are finite.
    record = strict_json.loads(text, check_floats=False)
    if not isinstance(record, dict):
        raise ValueError(f"a line must be a JSON object, got {show(record)}")
    for key in ("t", "lm"):
        if key not in record:
            raise ValueError(f"{key!r} is missing")
    t = _number(record["t"], "t", -MAX_SECONDS, MAX_SECONDS)
    landmarks = _marks(record["lm"], parts)
    if landmarks is None:
        return TimedPose(t)
    size = record.get("size")
    if not isinstance(size, list) or len(size) != 2:
        raise ValueError(f"'size' must be [width, height], got {show(size)}")
    width, height = (_whole(v, "size", 1, MAX_SIZE_PX) for v in size)
    return TimedPose(t, Pose(width, height, landmarks, _marks(record.get("w"), parts)))


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
        except PermissionError as exc:
            raise InputNotFound(f"{self.path}: permission denied") from exc
        except OSError as exc:
            raise InputNotFound(f"{self.path}: cannot read the pose log ({exc.strerror or exc})") from exc
        try:
            self.header, self.parts = _parse_header(self.path, self._line(1))
        except BaseException:
            self.file.close()
            raise

    def _line(self, number: int) -> bytes:
        """The next line, read with a bound so a file without newlines cannot fill the memory."""
        try:
            line = self.file.readline(MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise InputNotFound(f"{self.path}: cannot read the pose log ({exc.strerror or exc})") from exc
        if len(line) > MAX_LINE_BYTES:
            raise _bad(self.path, number, f"the line is longer than {MAX_LINE_BYTES} bytes")
        return line

    def __iter__(self) -> Iterator[TimedPose]:
        last_t = float("-inf")
        number = 1
        while line := self._line(number := number + 1):
            if not line.strip():
                continue
            try:
                timed = _parse_pose(line, self.parts)
            except ValueError as exc:
                raise _bad(self.path, number, str(exc)) from None
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
