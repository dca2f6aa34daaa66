"""Writing a user-named output file without ever clobbering one by accident.

The text goes to a temporary file beside the target, which is then linked
into place: `os.link` fails when the target exists, so a file that appeared
meanwhile is not overwritten either. Overwriting needs `force`, or a
`replaceable(path)` check that says the existing file is one we made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import OutputError


def never(path: Path) -> bool:
    return False


def write_new(path: str | Path, text: str, force: bool = False,
              replaceable: Callable[[Path], bool] = never, what: str = "file") -> Path:
    """Write `text` to `path`; refuse (OutputError) when it exists, unless allowed."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name for the {what}")
    overwrite = force or (path.exists() and replaceable(path))
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; choose another name or add --force "
                          "to overwrite it")
    tmp = _write_temp(path, text, what)
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        raise OutputError(f"{path}: already exists; choose another name or add --force "
                          "to overwrite it") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what} ({exc.strerror})") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _write_temp(path: Path, text: str, what: str) -> str:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what} ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write the {what} ({exc.strerror})") from exc
    os.chmod(tmp, 0o644 & ~_umask())
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
