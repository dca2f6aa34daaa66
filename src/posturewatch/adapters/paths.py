"""Where posturewatch keeps its files, per platform conventions (platformdirs).

`POSTUREWATCH_HOME`, when set, puts every directory under one folder: tests
and portable installs use it so nothing touches the real user's files.

The runtime dir (control socket and lock) is $XDG_RUNTIME_DIR/posturewatch. Without
XDG_RUNTIME_DIR (cron, ssh, a bare X session) it is under /run/user/<uid> when that
exists, else under <tmp>/runtime-<uid>, and refused when that folder is not this
user's alone: someone else could have made it, to swap our socket. We decide this
ourselves rather than through platformdirs, whose fallback changed within the
releases we allow (/run/user/<uid> unchecked before 4.7, the checked /tmp folder only
from 4.14.8). An unsafe runtime dir is a problem for the background monitor only, so
it must not stop `analyze` or `profiles`; asking for `Dirs.runtime` then gives one
clear DaemonError.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..errors import DaemonError

APP = "posturewatch"


@dataclass(frozen=True)
class Dirs:
    config: Path  # settings and calibration profiles
    data: Path  # session history
    state: Path  # logs
    cache: Path  # downloaded models
    runtime_dir: Path | None  # control socket and lock; None when there is no safe one
    runtime_problem: str = ""  # why there is none

    @property
    def runtime(self) -> Path:
        if self.runtime_dir is None:
            raise DaemonError(f"no safe folder for the control socket ({self.runtime_problem}): "
                              "set XDG_RUNTIME_DIR to a private folder, or POSTUREWATCH_HOME")
        return self.runtime_dir


def user_dirs(env: dict[str, str] | None = None) -> Dirs:
    env = os.environ if env is None else env
    home = env.get("POSTUREWATCH_HOME")
    if home:
        root = Path(home)
        return Dirs(root / "config", root / "data", root / "state", root / "cache", root / "run")
    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    runtime, problem = _runtime_dir(dirs, env)
    return Dirs(Path(dirs.user_config_dir), Path(dirs.user_data_dir),
                Path(dirs.user_state_dir), Path(dirs.user_cache_dir), runtime, problem)


def _runtime_dir(dirs: platformdirs.PlatformDirs, env) -> tuple[Path | None, str]:
    """(the runtime dir, "") or (None, why there is no safe one)."""
    if sys.platform in ("darwin", "win32"):  # no XDG there: the platform's own convention
        return Path(dirs.user_runtime_dir), ""
    given = env.get("XDG_RUNTIME_DIR")
    if given:
        return Path(given) / APP, ""
    uid = os.getuid()
    base = Path(f"/run/user/{uid}")
    if not base.is_dir():
        base = Path(tempfile.gettempdir()) / f"runtime-{uid}"
    problem = _not_private(base, uid)
    return (None, problem) if problem else (base / APP, "")


def _not_private(folder: Path, uid: int) -> str:
    """Why `folder` may not hold our socket ("" when it is ours alone, or not there yet)."""
    try:
        info = folder.lstat()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"runtime directory {folder}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        return f"runtime directory {folder} is not a folder of this user"
    if info.st_mode & 0o022:
        return f"runtime directory {folder} has writable mode {stat.S_IMODE(info.st_mode):04o}"
    return ""
