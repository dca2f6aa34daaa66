"""The config file: TOML errors with the line, origins, command-line overrides."""

from __future__ import annotations

import pytest

from posturewatch.adapters import config
from posturewatch.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_means_defaults(tmp_path):
    effective = config.load(path=tmp_path / "missing.toml")
    assert set(effective.origins.values()) == {"default"}


def test_file_then_command_line(tmp_path):
    path = write(tmp_path, "# comment\nbreak_after = 45\nfps = 2\n")
    effective = config.load({"fps": 0.5, "source": None}, path=path)
    assert effective.settings.break_after == 45.0 and effective.settings.fps == 0.5
    assert effective.origins["break_after"] == f"{path}:2"
    assert effective.origins["fps"] == "command line"
    assert effective.origins["source"] == "default"


@pytest.mark.parametrize("text, expected", [
    ("fps = 1\nfps = 2\n", "line 2"),
    ("break_after = 30 minutes\n", "line 1"),
    ("[monitor]\nfps = 1\n", ":1: [monitor]: sections are not used"),
    ("cooldown = -5\n", ":1: cooldown: expected at least 0"),
])
def test_errors_name_the_line_and_leave_the_file_alone(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path=path)
    assert str(path) in str(info.value) and expected in str(info.value)
    assert path.read_text() == text


def test_bad_command_line_value_says_so(tmp_path):
    with pytest.raises(ConfigError, match="command line: fps"):
        config.load({"fps": -1.0}, path=tmp_path / "none.toml")


def test_template_lists_every_key_and_parses_when_uncommented(tmp_path):
    text = config.template()
    uncommented = "\n".join(line[2:] for line in text.splitlines() if " = " in line)
    path = write(tmp_path, uncommented + "\n")
    assert config.load(path=path).settings == config.load(path=tmp_path / "x.toml").settings
