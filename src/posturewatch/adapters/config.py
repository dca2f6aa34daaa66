"""The config file (`config.toml` in the user config dir) and effective settings.

The file is a flat TOML table of the keys in `core.settings.Settings`. It is
only ever read: a malformed file is an error naming the line, and nothing is
rewritten. Command-line flags override the file; `effective()` says where
each value came from ("default", "<file>:<line>" or "command line").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..core.settings import DEFAULTS, Settings, SettingsError, as_dict, validate
from ..errors import ConfigError
from .paths import user_dirs

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

FILE_NAME = "config.toml"
CONFIG_ENV = "POSTUREWATCH_CONFIG"


@dataclass(frozen=True)
class Effective:
    settings: Settings
    origins: dict[str, str]  # key -> "default", "<path>:<line>", "command line"
    path: Path  # the config file looked at (it may not exist)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    import os
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return user_dirs(env).config / FILE_NAME


def read_file(path: Path) -> tuple[dict[str, Any], str]:
    """The file's table and text; ({}, "") when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: cannot read the config file ({reason})") from None
    if tomllib is None:
        raise ConfigError(f"{path}: reading the config file needs Python 3.11 or newer")
    try:
        return tomllib.loads(text), text
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4300 digits
        raise ConfigError(f"{path}: not valid TOML: {exc}; fix or remove the file") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply; "
                          "fix or remove the file") from None


def key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _where(path: Path, text: str, key: str) -> str:
    line = key_line(text, key)
    return f"{path}:{line}" if line else str(path)


def load(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
         path: Path | None = None) -> Effective:
    """Defaults <- config file <- `cli` (keys whose value is not None)."""
    path = config_path(env) if path is None else path
    table, text = read_file(path)
    for key, value in table.items():
        if isinstance(value, dict):
            raise ConfigError(f"{_where(path, text, key)}: [{key}]: sections are not used; "
                              "put the settings at the top of the file")
    try:
        from_file = validate(table)
    except SettingsError as exc:
        raise ConfigError(f"{_where(path, text, exc.key)}: {exc}") from None
    overrides = {k: v for k, v in (cli or {}).items() if v is not None}
    try:
        settings = validate(overrides, base=from_file)
    except SettingsError as exc:
        raise ConfigError(f"command line: {exc}") from None
    origins = {}
    for key in as_dict(DEFAULTS):
        if key in overrides:
            origins[key] = "command line"
        elif key in table:
            origins[key] = _where(path, text, key)
        else:
            origins[key] = "default"
    return Effective(settings, origins, path)


def template() -> str:
    """A commented config file with every default (for the docs and `config show --template`)."""
    from ..core.settings import HELP
    lines = ["# posturewatch settings; command-line flags override these.", ""]
    for key, value in as_dict(DEFAULTS).items():
        lines.append(f"# {HELP[key]}")
        lines.append(f"# {key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):  # short when that reads back the same (1/3 does not)
        return f"{value:g}" if float(f"{value:g}") == value else repr(value)
    return str(value)
