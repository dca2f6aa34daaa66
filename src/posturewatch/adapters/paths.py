"""Where posturewatch keeps its files, per platform conventions (platformdirs).

`POSTUREWATCH_HOME`, when set, puts every directory under one folder: tests
and portable installs use it so nothing touches the real user's files.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "posturewatch"


@dataclass(frozen=True)
class Dirs:
    config: Path  # settings and calibration profiles
    data: Path  # session history
    state: Path  # logs
    cache: Path  # downloaded models
    runtime: Path  # control socket and lock


def user_dirs(env: dict[str, str] | None = None) -> Dirs:
    env = os.environ if env is None else env
    home = env.get("POSTUREWATCH_HOME")
    if home:
        root = Path(home)
        return Dirs(root / "config", root / "data", root / "state", root / "cache", root / "run")
    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR platformdirs warns and uses /tmp/runtime-<uid>; fine for us.
        warnings.simplefilter("ignore")
        runtime = Path(dirs.user_runtime_dir)
    return Dirs(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_state_dir),
        Path(dirs.user_cache_dir),
        runtime,
    )
