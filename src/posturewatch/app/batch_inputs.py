"""The inputs of a batch: what files, folders and globs name, and what each output is called.

A file is an input whatever its name (a bad one fails on its own). A folder
means every video and pose log below it, recursively, by extension. A pattern
with `*`, `?` or `[` that names no existing file is expanded like a shell glob
(`**` included). An argument that names nothing becomes a failed input, so it
shows in the summary like any other failure. The same file named twice is one
input.

Outputs are named after the input's file name without its extension:
`session1.mp4` -> `session1.json`. Inputs whose names clash (the same file name
in two folders, a video and its pose log, case ignored) and an input called
`summary` are instead named after their path below the folder the clashing
inputs share, extension included, with `/` written as `__`:
`may/s1.mp4` and `june/s1.mp4` -> `may__s1.mp4.json` and `june__s1.mp4.json`.
Names depend only on the set of inputs, not on their order.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"})
POSE_LOG_SUFFIXES = frozenset({".jsonl", ".poselog"})
RESERVED = frozenset({"summary"})  # summary.json and summary.csv are the batch's own


@dataclass(frozen=True)
class Input:
    arg: str  # the argument it came from
    path: Path | None  # None when the argument named nothing
    name: str = ""  # the output name, without .json
    problem: str | None = None  # why it cannot be analysed at all


def _is_recording(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES | POSE_LOG_SUFFIXES and not path.name.startswith(".")


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and (path == folder or folder in path.parents)


def _in_folder(folder: Path, skip: Path | None) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and _is_recording(p)
                  and not _inside(p.resolve(), skip))


def _expand_one(arg: str, skip: Path | None) -> list[Input]:
    path = Path(arg)
    if path.is_dir():
        found = _in_folder(path, skip)
        return [Input(arg, p) for p in found] or [Input(arg, None, problem=f"{arg}: no videos or pose logs in this folder")]
    if path.exists() or os.path.lexists(path) or not any(c in arg for c in "*?["):
        return [Input(arg, path)]  # analysis reports a missing or unreadable file itself
    matches = [Path(m) for m in sorted(glob.glob(arg, recursive=True))]
    found = [p for m in matches for p in (_in_folder(m, skip) if m.is_dir() else [m])]
    return [Input(arg, p) for p in found] or [Input(arg, None, problem=f"{arg}: no file matches")]


def expand(args: Sequence[str], out_dir: Path | None = None) -> list[Input]:
    """Every input, in argument order, named; folders never look inside `out_dir`."""
    skip = out_dir.resolve() if out_dir is not None else None
    seen: set[Path] = set()
    inputs: list[Input] = []
    for arg in args:
        for item in _expand_one(arg, skip):
            if item.path is not None:
                key = item.path.resolve()
                if key in seen:
                    continue
                seen.add(key)
            inputs.append(item)
    names = output_names([i.path for i in inputs if i.path is not None])
    return [Input(i.arg, i.path, names[i.path], i.problem) if i.path is not None else i for i in inputs]


def _below_common(paths: list[Path]) -> dict[Path, str]:
    absolute = {p: Path(os.path.abspath(p)) for p in paths}
    common = Path(os.path.commonpath([a.parent for a in absolute.values()]))
    return {p: "__".join(a.relative_to(common).parts) for p, a in absolute.items()}


def output_names(paths: Iterable[Path]) -> dict[Path, str]:
    """{input path: output name without .json}, unique (case ignored) among these inputs."""
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(path.stem.casefold(), []).append(path)
    names: dict[Path, str] = {}
    for stem, group in groups.items():
        if len(group) == 1 and stem not in RESERVED:
            names[group[0]] = group[0].stem
        else:
            names.update(_below_common(group))
    return _unique(names)


def _unique(names: dict[Path, str]) -> dict[Path, str]:
    """The rule above cannot clash in practice (`a__b/c` vs `a/b__c`); if it does, number them."""
    taken: dict[str, int] = {}
    for path in sorted(names, key=lambda p: os.path.abspath(p)):
        key = names[path].casefold()
        if key in taken or key in RESERVED:
            taken[key] = taken.get(key, 1) + 1
            names[path] = f"{names[path]}-{taken[key]}"
        else:
            taken[key] = 1
    return names
