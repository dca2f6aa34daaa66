"""Property-based fuzzing of every parser: only posturewatch's own errors may come out.

Each parser gets random input and mutations of a valid input (a value replaced
anywhere in the document, bytes flipped, inserted or cut). The property: it
either succeeds with a sane result or raises a PostureWatchError (argparse's
ArgumentTypeError for flag parsers) - never a ValueError, KeyError, TypeError,
RecursionError or OverflowError from deep inside. Where a result is printed
as JSON, the output must be strict JSON (no NaN).

The example counts are bounded so the suite stays quick; `HYPOTHESIS_PROFILE=fuzz`
(see conftest.py) runs many more, unseeded.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import clips
from cli_support import small_log
from hypothesis import given
from hypothesis import strategies as st

from posturewatch.adapters import config, labels, profiles
from posturewatch.adapters.control import BadRequest, parse_request
from posturewatch.adapters.pose_log import PoseLogReader
from posturewatch.app import cli, flags
from posturewatch.app.control_cmd import MAX_DURATION_S, duration
from posturewatch.core.settings import SettingsError, validate
from posturewatch.errors import PostureWatchError

EXAMPLE = clips.REPO / "calibration" / "warp_intel_man_mixed_session.json"

# --- strategies ------------------------------------------------------------------------------

NUMBERS = (st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, -1, 1e308, -1e-308, 10**20, 2**63]))
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=20)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _paths(value, here=()):
    """Every place in a JSON document a value could be replaced."""
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, here + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, here + (i,))


def _replace(doc, path, new):
    if not path:
        return new
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _replace(doc[path[0]], path[1:], new)
    return copy


@st.composite
def mutated_json(draw, valid) -> str:
    """`valid` with one value replaced, or its text with a few bytes changed."""
    how = draw(st.sampled_from(["value", "text", "deep", "constant"]))
    if how == "value":
        path = draw(st.sampled_from(list(_paths(valid))))
        return json.dumps(_replace(valid, path, draw(JSON_VALUES)))
    if how == "deep":
        path = draw(st.sampled_from(list(_paths(valid))))
        return json.dumps(_replace(valid, path, "DEEP")).replace('"DEEP"', _deep(draw(
            st.sampled_from([50, 900, 5000, 100_000]))))
    text = json.dumps(valid)
    if how == "constant":  # a number in the text becomes NaN, Infinity, 1e999 or a huge integer
        spots = [i for i, c in enumerate(text) if c.isdigit() and text[i - 1] in " [:-"]
        if spots:
            i = draw(st.sampled_from(spots))
            new = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "-0"]))
            text = text[:i] + new + text[i + 1:]
        return text
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.text(max_size=3)) + text[i + draw(st.integers(0, 3)):]
    return text


def _only_our_errors(call, *args):
    """The call's result, or None when it raised a PostureWatchError; anything else fails."""
    try:
        return call(*args)
    except PostureWatchError:
        return None


def _strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"{name} in JSON output")
    return json.loads(text, parse_constant=refuse)


# --- pose logs -----------------------------------------------------------------------------


def _valid_log_lines(folder: Path) -> list[str]:
    return small_log(folder / "valid.jsonl", frames=6).read_text().splitlines()


def _read_log(path: Path) -> list:
    reader = PoseLogReader(path)
    try:
        return list(reader)
    finally:
        reader.close()


@given(data=st.data())
def test_fuzz_pose_log_header(tmp_path, data):
    lines = _valid_log_lines(tmp_path)
    header = data.draw(mutated_json(json.loads(lines[0])) | JSON_VALUES.map(json.dumps)
                       | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join([header.replace("\n", " ")] + lines[1:]) + "\n", encoding="utf-8",
                    errors="surrogateescape")
    _only_our_errors(_read_log, path)


@given(data=st.data())
def test_fuzz_pose_log_lines(tmp_path, data):
    lines = _valid_log_lines(tmp_path)
    n = data.draw(st.integers(1, len(lines) - 1))
    line = data.draw(mutated_json(json.loads(lines[n])) | JSON_VALUES.map(json.dumps))
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines[:n] + [line.replace("\n", " ")] + lines[n + 1:]) + "\n")
    poses = _only_our_errors(_read_log, path)
    assert poses is None or all(math.isfinite(p.t) for p in poses)


@given(data=st.data())
def test_fuzz_pose_log_through_analyze_json(tmp_path, capsys, data):
    """Whatever a damaged pose log holds, `analyze --json` prints strict JSON or one error line."""
    lines = _valid_log_lines(tmp_path)
    n = data.draw(st.integers(0, len(lines) - 1))
    line = data.draw(mutated_json(json.loads(lines[n])))
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines[:n] + [line.replace("\n", " ")] + lines[n + 1:]) + "\n")
    code = cli.main(["analyze", str(path), "--json", "--calibration", str(EXAMPLE)])
    out, err = capsys.readouterr()
    if code == 0:
        assert err == "" and _strict_json(out)["frames_analyzed"] >= 0
    else:
        assert out == "" and err.count("\n") == 1 and err.startswith("posturewatch: error: ")


# --- profiles --------------------------------------------------------------------------------


@given(data=st.data())
def test_fuzz_profile(tmp_path, capsys, data):
    valid = json.loads(EXAMPLE.read_text())
    text = data.draw(mutated_json(valid) | JSON_VALUES.map(json.dumps))
    path = tmp_path / "fuzz.json"
    path.write_text(text)
    profile = _only_our_errors(profiles.read_profile, path)
    if profile is None:
        return
    _strict_json(json.dumps(profiles.to_json(profile)))  # what `profiles --json show` prints
    log = tmp_path / "s.jsonl"
    if not log.exists():
        small_log(log)
    code = cli.main(["analyze", str(log), "--json", "--calibration", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    _strict_json(out)


@given(name=st.text(max_size=70))
def test_fuzz_profile_names_stay_inside_the_profiles_folder(name):
    try:
        path = profiles.named_path(name)
    except PostureWatchError:
        return
    assert path.parent == profiles.profiles_dir() and path.name == f"{name}.json"
    assert "/" not in name and not name.startswith(".") and name.strip() == name


# --- config.toml ---------------------------------------------------------------------------

TOML_VALUES = st.sampled_from(["nan", "inf", "-inf", "+nan", "1e400", "9" * 400, "-1", "0", "30",
                               "1.5", "true", '"x"', '""', "[]", "{}", "[1, [2]]", "{a = 1}",
                               "1979-05-27", "0x1F", "1_000", '"""\nmulti\n"""'])


@given(data=st.data())
def test_fuzz_config_toml(tmp_path, data):
    keys = st.sampled_from(["alert_after", "fps", "away_fps", "cooldown", "break_after", "source",
                            "profile", "model", "realtime", "snooze", "brief_absence", "nope"])
    lines = data.draw(st.lists(st.tuples(keys, TOML_VALUES), max_size=5))
    text = "\n".join(f"{k} = {v}" for k, v in lines)
    text = data.draw(st.just(text) | st.text(max_size=80) | st.just("[" * 3000)
                     | st.just("a = " + _deep(data.draw(st.sampled_from([10, 5000]))))
                     | st.just(text + "\n[" + data.draw(st.text(max_size=10)) + "]"))
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    effective = _only_our_errors(config.load, None, None, path)
    assert effective is None or all(
        math.isfinite(v) for v in vars(effective.settings).values() if isinstance(v, float))


@given(mapping=st.dictionaries(st.sampled_from(["fps", "alert_after", "source", "realtime", "x"]),
                               SCALARS, max_size=4))
def test_fuzz_settings_from_any_mapping(mapping):
    try:
        settings = validate(mapping)
    except SettingsError:
        return
    assert all(math.isfinite(v) for v in vars(settings).values() if isinstance(v, float))


# --- the control socket, durations, flags ---------------------------------------------------------


@given(line=st.binary(max_size=200)
       | JSON_VALUES.map(lambda v: json.dumps(v).encode())
       | st.builds(lambda c, a: json.dumps({"cmd": c, "args": a}).encode(),
                   st.sampled_from(["status", "pause", "snooze", "x"]) | JSON_VALUES, JSON_VALUES)
       | st.sampled_from([b'{"cmd": ' + _deep(5000).encode() + b"}", b'{"cmd": "pause", "args": '
                          b'{"seconds": NaN}}', b'{"cmd": "pause", "args": {"seconds": 1e999}}']))
def test_fuzz_control_request(line):
    try:
        cmd, args = parse_request(line)
    except BadRequest:
        return
    assert isinstance(cmd, str) and isinstance(args, dict)
    _strict_json(json.dumps(args))  # no NaN or infinity reaches the daemon's handler


@given(text=st.text(max_size=30) | st.from_regex(r"\s*\d{1,30}(\.\d{0,20})?\s*(s|m|min|h)?\s*",
                                                  fullmatch=True))
def test_fuzz_duration(text):
    try:
        seconds = duration(text)
    except argparse.ArgumentTypeError:
        return
    assert math.isfinite(seconds) and 0 < seconds <= MAX_DURATION_S


@given(text=st.text(max_size=30) | st.sampled_from(["nan", "-inf", "1e999", "1_0", " 5 ", "0x10"])
       | st.floats(allow_nan=True, allow_infinity=True).map(repr))
def test_fuzz_number_flags(text):
    for parse, high in ((flags.seconds, flags.MAX_SECONDS), (flags.fps, flags.MAX_FPS)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert math.isfinite(value) and 0 <= value <= high


# --- label files -------------------------------------------------------------------------------

LABEL_ROWS = ["frame,time_s,label,extra", "0,0.0,upright,a", "1,0.2,upright,b", "2,0.4,slouch,c",
              "3,0.6,away,d"]


@given(data=st.data())
def test_fuzz_label_file(tmp_path, data):
    rows = list(LABEL_ROWS)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(rows) - 1))
        cells = rows[i].split(",")
        j = data.draw(st.integers(0, len(cells) - 1))
        cells[j] = data.draw(st.sampled_from(["nan", "inf", "-1", "1e999", "9" * 5000, "", '"', "\0",
                                              "upright", "standing", "x" * 200_000])
                             | st.text(max_size=6))
        rows[i] = ",".join(cells)
    text = data.draw(st.just("\n".join(rows)) | st.text(max_size=60))
    path = tmp_path / "clip.labels.csv"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    found = _only_our_errors(labels.read_labels, path)
    assert found is None or all(math.isfinite(t) for t in found.times)
