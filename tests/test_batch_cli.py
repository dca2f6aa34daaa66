"""`posturewatch batch`, in-process through `cli.main` (its workers are real spawned processes).

Most tests replay the session's pose logs of the sample clips (tests/clips.py) and
check each NAME.json against what `analyze --json` prints for the same input,
timing fields aside; one runs a real video. Bad inputs are built in a temp dir.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import clips
import pytest

from posturewatch import errors
from posturewatch.app import cli
from posturewatch.app.batch_inputs import expand, output_names
from posturewatch.app.progress import BatchProgress

from test_analyze_cli import small_log

LEAVE = "warp_intel_man_leave_and_return"
SLOUCH = "warp_intel_man_slouch_gradual"
VIDEO = "render_m1_upright_steady"
PROFILE = clips.REPO / "calibration" / f"{SLOUCH}.json"
TIMING = ("elapsed_s", "realtime_factor")


def run(capfd, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return code, out, err


def untimed(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in TIMING}


def analyze_json(capfd, *argv) -> dict:
    code, out, err = run(capfd, "analyze", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def read_summary(out: Path) -> tuple[list[dict], dict]:
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, json.loads((out / "summary.json").read_text())


def logs_in(folder: Path, *names: str) -> list[Path]:
    """Copies of the clips' pose logs named <clip>.jsonl (the cache's names carry a digest)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(clips.pose_log(n), folder / f"{n}.jsonl")) for n in names]


# --- results ------------------------------------------------------------------------------


@pytest.mark.video
def test_each_input_gets_the_analyze_json_and_a_summary_row(tmp_path, capfd):
    leave, slouch = logs_in(tmp_path / "in", LEAVE, SLOUCH)
    out = tmp_path / "out"
    code, stdout, err = run(capfd, "batch", tmp_path / "in", "--out", out, "--calibration", PROFILE,
                            "--jobs", "2")
    assert code == 0 and err == ""
    assert "2 of 2 inputs analysed" in stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{LEAVE}.json", f"{SLOUCH}.json",
                                                              "summary.csv", "summary.json"])
    rows, summary = read_summary(out)
    assert summary["counts"] == {"ok": 2, "failed": 0}
    for log, row in zip((leave, slouch), rows):  # folder contents in name order
        doc = json.loads((out / f"{log.stem}.json").read_text())
        assert untimed(doc) == untimed(analyze_json(capfd, log, "--calibration", PROFILE))
        assert row["name"] == log.stem and row["input"] == str(log) and row["status"] == "ok"
        assert row["error"] == "" and row["resumed"] == "0" and row["output"] == f"{log.stem}.json"
        assert float(row["duration_s"]) == doc["source"]["duration_s"]
        assert float(row["presence"]) == doc["person_ratio"]
        assert int(row["episodes"]) == len(doc["episodes"]) and int(row["alerts"]) == len(doc["alerts"])
        for state, share in doc["states"].items():
            assert float(row[f"share_{state}"]) == share
    assert float(rows[0]["share_away"]) > 0.1  # the clip where he leaves
    assert int(rows[1]["episodes"]) >= 1  # the clip where he slouches
    assert summary["inputs"][1]["episodes"] == int(rows[1]["episodes"])


@pytest.mark.video
def test_a_real_video_gives_what_analyze_gives(tmp_path, capfd):
    video = clips.video(VIDEO)
    code, _, err = run(capfd, "batch", video, "--out", tmp_path / "out", "--jobs", "1")
    assert code == 0 and err == "", "no native chatter from the workers either"
    doc = json.loads((tmp_path / "out" / f"{VIDEO}.json").read_text())
    assert doc["frames_analyzed"] == 75 and doc["model"]["variant"] == "full"
    assert untimed(doc) == untimed(analyze_json(capfd, video))


@pytest.mark.video
def test_calibrate_first_is_calibrate_then_analyze(tmp_path, capfd):
    log, = logs_in(tmp_path / "in", SLOUCH)
    code, _, err = run(capfd, "calibrate", "--from-video", log, "--end", "9",
                       "--output", tmp_path / "own.json")
    assert code == 0, err
    expected = analyze_json(capfd, log, "--calibration", tmp_path / "own.json")
    code, _, err = run(capfd, "batch", log, "--out", tmp_path / "out", "--calibrate-first", "9")
    assert code == 0, err
    doc = json.loads((tmp_path / "out" / f"{SLOUCH}.json").read_text())
    assert untimed(doc) == untimed(expected)
    assert doc["episodes"] and doc["states"]["poor"] > 0.2


def test_calibrate_first_fails_a_recording_without_a_person_at_the_start(tmp_path, capfd):
    log = small_log(tmp_path / "first.jsonl", frames=40)  # a person for 4 s, then nobody
    lines = log.read_text().splitlines()
    late = tmp_path / "late.jsonl"  # ... now nobody for 4 s, then the person
    late.write_text("\n".join([lines[0], *(json.dumps({**json.loads(a), "t": json.loads(b)["t"]})
                                          for a, b in zip(lines[21:] + lines[1:21], lines[1:]))]) + "\n")
    code, _, err = run(capfd, "batch", late, "--out", tmp_path / "out", "--calibrate-first", "3")
    assert code == errors.BatchIncomplete.exit_code
    rows, _ = read_summary(tmp_path / "out")
    assert rows[0]["status"] == "failed" and "--calibrate-first 3: cannot calibrate" in rows[0]["error"]


# --- bad inputs ---------------------------------------------------------------------------


def test_bad_inputs_are_recorded_and_the_batch_goes_on(tmp_path, capfd):
    good = small_log(tmp_path / "good.jsonl")
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "notes.mp4").write_bytes(b"meeting notes\n" * 50)
    (tmp_path / "zero.mp4").write_bytes(b"")
    (tmp_path / "damaged.jsonl").write_bytes(good.read_bytes() + b'{"t": 0.1, "lm": null}\n')
    argv = [tmp_path / "notes.mp4", tmp_path / "zero.mp4", tmp_path / "damaged.jsonl", good,
            tmp_path / "missing.mp4", tmp_path / "empty_folder", f"{tmp_path}/nothing*.mp4"]
    code, _, err = run(capfd, "batch", *argv, "--out", tmp_path / "out")
    assert code == errors.BatchIncomplete.exit_code
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("posturewatch: error: ")] == [
        f"posturewatch: error: 6 of 7 inputs failed (see {tmp_path / 'out' / 'summary.csv'})"]
    assert len([line for line in lines if line.startswith("posturewatch: failed: ")]) == 6
    assert len(lines) == 7 and "Traceback" not in err
    rows, summary = read_summary(tmp_path / "out")
    assert [r["status"] for r in rows] == ["failed"] * 3 + ["ok"] + ["failed"] * 3
    assert summary["counts"] == {"ok": 1, "failed": 6}
    errors_by_input = {r["input"]: r["error"] for r in rows}
    assert "not a video" in errors_by_input[str(tmp_path / "notes.mp4")]
    assert "empty" in errors_by_input[str(tmp_path / "zero.mp4")]
    assert "damaged.jsonl:22:" in errors_by_input[str(tmp_path / "damaged.jsonl")]
    assert "no such file" in errors_by_input[str(tmp_path / "missing.mp4")]
    assert "no videos or pose logs" in errors_by_input[str(tmp_path / "empty_folder")]
    assert "no file matches" in errors_by_input[f"{tmp_path}/nothing*.mp4"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.json", "summary.csv", "summary.json"]


@pytest.mark.parametrize("name", ["session.json", "summary.json"])
def test_an_output_that_would_replace_an_input_is_refused(tmp_path, capfd, name):
    log = small_log(tmp_path / name)  # a pose log with a .json name, in --out
    before = log.read_bytes()
    code, _, err = run(capfd, "batch", log, "--out", tmp_path)
    assert code == errors.UsageError.exit_code
    assert err == f"posturewatch: error: {tmp_path / name} would be both an input and an output: " \
                  "choose another --out\n"
    assert log.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.video
def test_report_writes_an_html_page_per_input_and_resuming_wants_it_too(tmp_path, capfd):
    log, = logs_in(tmp_path / "in", SLOUCH)
    out = tmp_path / "out"
    assert run(capfd, "batch", log, "--out", out)[0] == 0  # without pages first
    code, stdout, err = run(capfd, "batch", log, "--out", out, "--calibration", PROFILE, "--report",
                            "--force")
    assert code == 0, err
    page = (out / f"{SLOUCH}.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "http://" not in page.split("<svg")[0]
    code, stdout, _ = run(capfd, "batch", log, "--out", out, "--calibration", PROFILE, "--report")
    assert code == 0 and "(1 done before)" in stdout
    (out / f"{SLOUCH}.html").unlink()  # a result without its page is not done
    code, stdout, _ = run(capfd, "batch", log, "--out", out, "--calibration", PROFILE, "--report")
    assert code == 0 and "(0 done before)" in stdout and (out / f"{SLOUCH}.html").exists()


# --- resuming -----------------------------------------------------------------------------


def test_done_inputs_are_skipped_newer_ones_redone_and_force_redoes_all(tmp_path, capfd):
    a, b = small_log(tmp_path / "a.jsonl"), small_log(tmp_path / "b.jsonl", frames=30)
    out = tmp_path / "out"
    assert run(capfd, "batch", a, b, "--out", out)[0] == 0
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("?.json")}

    code, stdout, _ = run(capfd, "batch", a, b, "--out", out)
    assert code == 0 and "(2 done before)" in stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("?.json")} == first  # not rewritten
    rows, _ = read_summary(out)
    assert [r["resumed"] for r in rows] == ["1", "1"] and rows[1]["frames_analyzed"] == "30"

    os.utime(b, ns=(first["b.json"] + 10**9,) * 2)  # b changed after its result was written
    code, stdout, _ = run(capfd, "batch", a, b, "--out", out)
    assert "(1 done before)" in stdout
    assert (out / "a.json").stat().st_mtime_ns == first["a.json"]
    assert (out / "b.json").stat().st_mtime_ns > first["b.json"]

    code, stdout, _ = run(capfd, "batch", a, b, "--out", out, "--force")
    assert code == 0 and "(0 done before)" in stdout
    assert (out / "a.json").stat().st_mtime_ns > first["a.json"]


def test_other_options_do_not_mix_with_results_already_there(tmp_path, capfd):
    log = small_log(tmp_path / "a.jsonl")
    out = tmp_path / "out"
    assert run(capfd, "batch", log, "--out", out)[0] == 0
    before = (out / "a.json").read_bytes()
    code, _, err = run(capfd, "batch", log, "--out", out, "--fps", "2")
    assert code == errors.UsageError.exit_code and "other options (fps)" in err
    assert (out / "a.json").read_bytes() == before
    code, _, _ = run(capfd, "batch", log, "--out", out, "--fps", "2", "--force")
    assert code == 0 and json.loads((out / "a.json").read_text())["frames_analyzed"] == 8


# --- inputs and names ---------------------------------------------------------------------


def test_folders_globs_and_files_expand_once_each(tmp_path):
    for rel in ("study/p1/s1.mp4", "study/p1/s1.jsonl", "study/p2/s1.mp4", "study/p2/notes.txt",
                "study/p2/.hidden.mp4", "study/out/old.mp4", "x/summary.jsonl"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    found = expand([str(tmp_path / "study"), str(tmp_path / "study/p1/*.mp4"), str(tmp_path / "x")],
                   out_dir=tmp_path / "study" / "out")
    assert [(str(i.path.relative_to(tmp_path)), i.name) for i in found] == [
        ("study/p1/s1.jsonl", "p1__s1.jsonl"),  # three inputs called s1: their paths below study/
        ("study/p1/s1.mp4", "p1__s1.mp4"),
        ("study/p2/s1.mp4", "p2__s1.mp4"),
        ("x/summary.jsonl", "summary.jsonl"),  # summary.json is the batch's own
    ]


def test_output_names_do_not_depend_on_the_order_of_inputs():
    paths = [Path("a/s.mp4"), Path("b/s.mp4"), Path("c/t.mp4"), Path("c/T.jsonl")]
    names = output_names(paths)
    assert names == output_names(paths[::-1])
    assert names == {Path("a/s.mp4"): "a__s.mp4", Path("b/s.mp4"): "b__s.mp4",
                     Path("c/t.mp4"): "t.mp4", Path("c/T.jsonl"): "T.jsonl"}


def test_the_progress_bar_counts_files_and_the_running_ones_frames():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    now = [0.0]
    stream = Terminal()
    bar = BatchProgress(4, stream=stream, clock=lambda: now[0])
    bar.finished(0)
    now[0] = 10.0
    bar.started(1)
    bar.progressed(1, 15.0, 30.0)
    now[0] = 20.0
    bar.progressed(1, 30.0, 30.0)
    last = stream.getvalue().split("\r")[-1]
    assert "1/4 files" in last and "running 100%" in last and "eta   20 s" in last
    bar.clear()
    assert stream.getvalue().endswith("\r\033[K")
    quiet = io.StringIO()
    BatchProgress(4, stream=quiet).finished(0)
    assert quiet.getvalue() == ""  # not a terminal: no bar


# --- the worker ---------------------------------------------------------------------------


@pytest.mark.video
def test_a_worker_loads_mediapipe_and_the_model_once_and_gives_each_video_a_fresh_tracker():
    from posturewatch.app.batch_worker import BatchSettings, BatchWorker

    worker = BatchWorker(BatchSettings())
    other, video = clips.video("warp_intel_man_leave_and_return"), clips.video(VIDEO)
    first, second, again = worker(str(video)), worker(str(other)), worker(str(video))
    assert first.ok and second.ok and again.ok
    assert first.setup_s > 0 and second.setup_s == 0 and again.setup_s == 0  # once per worker
    assert worker.model == str(clips.model_path("full"))
    # The same video after another one: the same result, so no tracking state was carried over.
    assert untimed(again.doc) == untimed(first.doc)


@pytest.mark.parametrize("argv", [["--calibrate-first", "nan"], ["--calibrate-first", "0"],
                                  ["--calibrate-first", "inf"], ["--jobs", "0"],
                                  ["--profile", "p", "--calibrate-first", "5"]])
def test_contradicting_or_impossible_options_are_usage_errors(tmp_path, capfd, argv):
    with pytest.raises(SystemExit) as exit:
        cli.main(["batch", str(small_log(tmp_path / "s.jsonl")), "--out", str(tmp_path / "o"), *argv])
    assert exit.value.code == errors.UsageError.exit_code
    err = capfd.readouterr().err
    assert err.startswith("posturewatch: error: batch: argument") and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()
