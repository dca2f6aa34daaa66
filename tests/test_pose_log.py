"""Pose logs: record once, replay without MediaPipe, identically; damaged logs are named by line."""

from __future__ import annotations

import json
from pathlib import Path

import clips
import pytest

from posturewatch.adapters.pose_log import (PoseLogHeader, PoseLogReader, PoseLogReplay,
                                            PoseLogWriter, encode_header, encode_pose,
                                            is_pose_log, write_pose_log)
from posturewatch.app import cli
from posturewatch.core.pose import PARTS, Landmark, Part, Pose, TimedPose
from posturewatch.errors import BadPoseLog, InputNotFound
from posturewatch.ports import SourceInfo

HEADER = PoseLogHeader(SourceInfo("clip.mp4", 10.0, 100, 640, 480),
                       {"variant": "full", "path": "/models/pose_landmarker_full.task"}, 5.0)


def a_pose(shift: float = 0.0, world: bool = True) -> Pose:
    marks = {p: Landmark(0.3 + 0.02 * i + shift, 0.25 + 0.03 * i, -0.5 + 0.01 * i, 0.9 - 0.01 * i)
             for i, p in enumerate(PARTS)}
    w = {p: Landmark(0.1 * i, -0.2 * i, 0.05 * i, 0.5) for i, p in enumerate(PARTS)} if world else None
    return Pose(640, 480, marks, w)


POSES = [TimedPose(0.0, a_pose()), TimedPose(0.2, None), TimedPose(0.4, a_pose(0.01, world=False)),
         TimedPose(0.6, a_pose(0.123456))]


def read_all(path: Path) -> tuple[PoseLogHeader, list[TimedPose]]:
    reader = PoseLogReader(path)
    try:
        return reader.header, list(reader)
    finally:
        reader.close()


# --- round trip ----------------------------------------------------------------------


def test_a_written_log_reads_back_exactly(tmp_path):
    path = tmp_path / "s.jsonl"
    write_pose_log(path, HEADER, POSES)
    header, poses = read_all(path)
    assert header == HEADER
    assert poses == POSES


def test_a_replay_iterates_a_window_at_a_rate(tmp_path):
    path = tmp_path / "s.jsonl"
    write_pose_log(path, HEADER, [TimedPose(i / 10, None) for i in range(30)])  # 10 a second
    replay = PoseLogReplay(path, fps=2.5, start=0.5, end=2.5)
    try:
        assert [p.t for p in replay] == pytest.approx([0.5, 0.9, 1.3, 1.7, 2.1])
    finally:
        replay.close()


def test_a_replay_sampled_on_demand_gives_the_first_pose_at_or_after_due(tmp_path):
    path = tmp_path / "s.jsonl"
    write_pose_log(path, HEADER, POSES)  # at 0.0, 0.2, 0.4, 0.6
    replay = PoseLogReplay(path)
    try:
        assert replay.next(0.0) == POSES[0] and replay.next(0.3) == POSES[2]
        replay.release()  # a file of numbers: nothing to let go, nothing lost
        assert replay.next(0.4) == POSES[3] and replay.next(0.1) is None  # never back; the end
    finally:
        replay.close()


def test_log_lines_are_one_json_document_each(tmp_path):
    path = tmp_path / "s.jsonl"
    write_pose_log(path, HEADER, POSES)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + len(POSES)
    head = json.loads(lines[0])
    assert head["format"] == "posturewatch-poselog" and head["version"] == 1
    assert head["parts"] == [p.value for p in Part]
    assert json.loads(lines[2]) == {"t": 0.2, "lm": None, "w": None}
    assert len(json.loads(lines[1])["lm"]) == len(PARTS)


def test_is_pose_log_by_name_or_content(tmp_path):
    plain = tmp_path / "recording"
    write_pose_log(plain, HEADER, POSES)
    assert is_pose_log(plain)
    assert is_pose_log(tmp_path / "whatever.jsonl")
    assert not is_pose_log(clips.video("render_m1_upright_steady"))


@pytest.mark.video
def test_replaying_a_recorded_log_gives_the_same_analysis(tmp_path, capsys):
    """Video -> (--poses log, --csv, --json); then log -> (--csv, --json): identical."""
    clip = clips.video("warp_intel_man_slouch_gradual")
    log, csv_video, csv_replay = tmp_path / "s.jsonl", tmp_path / "video.csv", tmp_path / "replay.csv"
    assert cli.main(["analyze", str(clip), "--end", "5", "--json", "--poses", str(log),
                     "--csv", str(csv_video)]) == 0
    from_video = json.loads(capsys.readouterr().out)
    assert cli.main(["analyze", str(log), "--json", "--csv", str(csv_replay)]) == 0
    from_log = json.loads(capsys.readouterr().out)

    for doc in (from_video, from_log):
        assert doc.pop("elapsed_s") > 0 and "realtime_factor" in doc
        doc.pop("realtime_factor")
    assert from_log == from_video
    assert from_video["frames_analyzed"] == 25  # 5 s at the default 5 fps
    assert from_video["model"]["variant"] == "full"
    assert csv_replay.read_bytes() == csv_video.read_bytes()
    assert len(csv_video.read_text().splitlines()) == 1 + 25


@pytest.mark.video
def test_cached_clip_logs_replay_every_sampled_frame():
    """The session cache (tests/clips.py) writes what the pipeline saw: one line per sample."""
    name = "render_m1_upright_steady"
    header, poses = read_all(clips.pose_log(name))
    assert header.source.frame_count == len(clips.labels(name))
    assert header.sample_fps == 5.0 and header.model["variant"] == "full"
    assert [p.t for p in poses] == pytest.approx([i / 5 for i in range(75)])


# --- damaged logs ----------------------------------------------------------------------


def good_lines() -> list[str]:
    return [encode_header(HEADER)] + [encode_pose(p) for p in POSES]


def with_line(number: int, text: str) -> list[str]:
    lines = good_lines()
    lines[number - 1] = text
    return lines


def bad_landmark_count() -> str:
    record = json.loads(encode_pose(POSES[0]))
    record["lm"] = record["lm"][:-1]
    return json.dumps(record)


def bad_visibility() -> str:
    record = json.loads(encode_pose(POSES[0]))
    record["lm"][3][3] = 1.7
    return json.dumps(record)


def without_size() -> str:
    record = json.loads(encode_pose(POSES[0]))
    del record["size"]
    return json.dumps(record)


def header_with(**changes) -> str:
    head = json.loads(encode_header(HEADER))
    head.update(changes)
    return json.dumps(head)


DAMAGED = [
    ("header is not JSON", with_line(1, "posturewatch pose log"), 1, "bad header"),
    ("header of another format", with_line(1, header_with(format="something-else")), 1, "format"),
    ("newer version", with_line(1, header_with(version=2)), 1, "version 2 is not supported"),
    ("unknown body part", with_line(1, header_with(parts=["nose", "tail"])), 1, "tail"),
    ("header without source", with_line(1, header_with(source=None)), 1, "bad header"),
    ("truncated line", with_line(3, encode_pose(POSES[2])[:40]), 3,
     "(not JSON: Expecting ',' delimiter at the end of the line)"),
    ("truncated last line", good_lines()[:-1] + [encode_pose(POSES[3])[:-7]], 5,
     "(not JSON: Expecting ',' delimiter at the end of the line)"),
    ("a stray character", with_line(2, encode_pose(POSES[1]).replace(",", ";", 1)), 2,
     "(not JSON: Expecting ',' delimiter at character 9)"),
    ("wrong number of landmarks", with_line(2, bad_landmark_count()), 2, "14 landmarks, expected 15"),
    ("visibility out of range", with_line(4, bad_visibility()), 4, "visibility"),
    ("pose without a frame size", with_line(2, without_size()), 2, "size"),
    ("time going backwards", good_lines() + [encode_pose(TimedPose(0.5, None))], 6, "backwards"),
    ("time missing", with_line(3, '{"lm": null, "w": null}'), 3, "'t'"),
    ("not an object", with_line(2, "[1, 2, 3]"), 2, "(a line must be a JSON object, got [1, 2, 3])"),
]


@pytest.mark.parametrize("lines,line,why", [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED])
def test_damaged_log_names_the_line(tmp_path, lines, line, why):
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadPoseLog) as raised:
        read_all(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: not a valid posturewatch pose log (")
    assert why and why in message


def test_an_empty_file_is_a_bad_log(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.touch()
    with pytest.raises(BadPoseLog, match=f"{path}:1: "):
        read_all(path)


def test_binary_garbage_is_a_bad_log(tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(BadPoseLog, match="garbage.jsonl"):
        read_all(path)


def test_bytes_that_are_not_utf8_deep_in_the_log(tmp_path):
    # Far enough in that the reader has long decoded the header (text files read in chunks).
    many = [encode_pose(TimedPose(i / 5, a_pose())) for i in range(200)]
    path = tmp_path / "s.jsonl"
    path.write_bytes(("\n".join([encode_header(HEADER)] + many) + "\n").encode()
                     + b'{"t": 99, "lm": \xff\xfe}\n')
    with pytest.raises(BadPoseLog, match="s.jsonl:202: "):
        read_all(path)


def test_blank_lines_are_ignored(tmp_path):
    path = tmp_path / "s.jsonl"
    lines = good_lines()
    path.write_text("\n".join(lines[:2] + ["", "  "] + lines[2:]) + "\n")
    assert read_all(path)[1] == POSES


def test_missing_log_and_directory(tmp_path):
    with pytest.raises(InputNotFound, match="no such file"):
        PoseLogReader(tmp_path / "nope.jsonl")
    with pytest.raises(InputNotFound, match="not a file"):
        PoseLogReader(tmp_path)


# --- interrupted writes ----------------------------------------------------------------------


class Interrupted(Exception):
    pass


def interrupted_after(n: int):
    yield from POSES[:n]
    raise Interrupted


def test_an_interrupted_write_leaves_no_file(tmp_path):
    path = tmp_path / "s.jsonl"
    with pytest.raises(Interrupted):
        write_pose_log(path, HEADER, interrupted_after(2))
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_keeps_the_previous_log(tmp_path):
    path = tmp_path / "s.jsonl"
    write_pose_log(path, HEADER, POSES[:1])
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with PoseLogWriter(path, HEADER) as writer:
            writer.write(POSES[0])
            writer.write(POSES[1])
            raise KeyboardInterrupt
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_analyze_stopped_by_a_damaged_input_writes_no_outputs(tmp_path, capsys):
    """`analyze damaged.jsonl --poses out --csv out`: the error, and neither output file."""
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join(good_lines() + [encode_pose(TimedPose(0.1, None))]) + "\n")
    out_log, out_csv = tmp_path / "out.jsonl", tmp_path / "out.csv"
    status = cli.main(["analyze", str(damaged), "--poses", str(out_log), "--csv", str(out_csv)])
    assert status == BadPoseLog.exit_code
    assert "damaged.jsonl:6:" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out.")] == []
