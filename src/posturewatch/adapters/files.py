"""Guards around the user's files: what a path names, and keeping old files safe.

- `local_path` refuses a URL where a file is expected (instead of a mangled
  "no such file" for `http:/host/clip.mp4`).
- `check_distinct` refuses a command whose output is one of its inputs or
  another of its outputs, however it is spelled (relative, symlink, hardlink).
- `numbered_backup` moves a file aside to the first free `<name>.<tag>`,
  `<name>.<tag>.1`, ... and never replaces an earlier backup.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Mapping

from ..errors import OutputError, UsageError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_BACKUPS = 1000


def is_url(text: str | os.PathLike) -> bool:
    return bool(_URL.match(os.fspath(text)))


def local_path(text: str | os.PathLike, what: str) -> Path:
    """`text` as a path; UsageError when it is a URL (`what` names the option)."""
    if is_url(text):
        raise UsageError(f"{what} {os.fspath(text)} is a URL; give a file on this computer "
                         "(download it first; `posturewatch run --source URL` watches a stream)")
    return Path(text)


def real(path: str | os.PathLike) -> Path:
    """The path with every symlink and `..` resolved, whether or not it exists."""
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether `a` and `b` name one file: the same real path, or (hard links) the same inode."""
    if real(a) == real(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): then only the path can match
        return False


def check_distinct(inputs: Mapping[str, str | os.PathLike | None],
                   outputs: Mapping[str, str | os.PathLike | None]) -> None:
    """UsageError when an output is an input or another output; keys name the options."""
    given_outputs = [(k, v) for k, v in outputs.items() if v is not None]
    given_inputs = [(k, v) for k, v in inputs.items() if v is not None]
    for i, (out_name, out) in enumerate(given_outputs):
        for in_name, source in given_inputs:
            if same_file(out, source):
                raise UsageError(f"{out_name} {out} is the same file as {in_name} {source}: "
                                 "writing it would destroy the input; give another file name")
        for other_name, other in given_outputs[i + 1:]:
            if same_file(out, other):
                raise UsageError(f"{out_name} and {other_name} name the same file ({out}); "
                                 "give each output its own file name")


def numbered_backup(path: Path, tag: str = "broken") -> Path:
    """Move `path` to `<path>.<tag>` or, if taken, `<path>.<tag>.1`, `.2` ...; returns where.

    A hard link claims the name (it fails if the name exists, where a rename
    would replace it silently), then the original name is removed.
    """
    for n in range(MAX_BACKUPS):
        target = path.with_name(f"{path.name}.{tag}" + (f".{n}" if n else ""))
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            if target.exists() or target.is_symlink():
                continue
            os.rename(path, target)  # no hard links here: a rename, after checking the name is free
            return target
        os.unlink(path)
        return target
    raise OutputError(f"{path}: {MAX_BACKUPS} backups exist already; remove some of them")


def ensure_dir(path: Path, what: str) -> Path:
    """Create the folder `path` if needed; OutputError with one clear line when it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot use {path} as the {what}: it is a file, not a folder "
                          "(move it away, or set POSTUREWATCH_HOME)") from None
    except OSError as exc:
        raise OutputError(f"cannot use {path} as the {what}: {exc.strerror or exc} "
                          "(fix its permissions, or set POSTUREWATCH_HOME)") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"cannot use {path} as the {what}: permission denied "
                          "(fix its permissions, or set POSTUREWATCH_HOME)")
    return path
