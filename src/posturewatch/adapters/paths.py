"""Where posturewatch keeps its files, per platform conventions (platformdirs).

`POSTUREWATCH_HOME`, when set, puts every directory under one folder: tests
and portable installs use it so nothing touches the real user's files.

The runtime dir (control socket and lock) is looked up when first asked for:
without XDG_RUNTIME_DIR, platformdirs falls back to a folder in /tmp and
refuses one that another user could have made (PermissionError). That is a
problem for the background monitor only, so it must not stop `analyze` or
`profiles`; asking for `Dirs.runtime` then gives one clear DaemonError.
"""

from __future__ import annotations

import os
import warnings
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
    runtime, problem = None, ""
    try:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR platformdirs warns and uses /tmp/runtime-<uid>; fine for us.
            warnings.simplefilter("ignore")
            runtime = Path(dirs.user_runtime_dir)
    except OSError as exc:  # an unsafe fallback folder: PermissionError naming it
        problem = str(exc).split("; set XDG_RUNTIME_DIR")[0]
    return Dirs(Path(dirs.user_config_dir), Path(dirs.user_data_dir),
                Path(dirs.user_state_dir), Path(dirs.user_cache_dir), runtime, problem)
