"""The user's files are safe: names are names, outputs are never inputs, backups pile up,
a model replaces the cached one only once it ran, and atomic writes leave no temp files.

CLI cases run in-process (cli.main) on files made in the test's temp dir, and check
both the one-line error and that every file there is byte for byte as it was.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

import clips
import pytest
from cli_support import assert_one_error, files_in, run, small_log

from posturewatch import errors
from posturewatch.adapters import models, profiles
from posturewatch.adapters.atomic import AtomicFile
from posturewatch.adapters.files import numbered_backup, same_file

EXAMPLE = clips.REPO / "calibration" / "warp_intel_man_mixed_session.json"
MIXED = "warp_intel_man_mixed_session"


def example_profile() -> profiles.Profile:
    return profiles.read_profile(EXAMPLE)


# --- a profile NAME is a name -------------------------------------------------------------


@pytest.fixture
def bystanders(tmp_path, monkeypatch) -> Path:
    """A working folder tmp/a/b holding notes.json, with x.txt two levels up; cwd is tmp/a/b."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "notes.json").write_text('{"my": "notes"}\n')
    (tmp_path / "x.txt").write_text("keep me\n")
    monkeypatch.chdir(work)
    return tmp_path


NOT_NAMES = ["notes.json", "../../x.txt", "{abs}/x.txt", "default.json", "a/b", "..", ".hidden",
             "line\nbreak", "", "x" * 65]


@pytest.mark.parametrize("name", NOT_NAMES)
def test_profiles_delete_refuses_anything_but_a_name(bystanders, capfd, name):
    name = name.format(abs=bystanders)
    profiles.save_profile(example_profile(), profiles.named_path("default"))
    before = files_in(bystanders)
    code, out, err = run(capfd, "profiles", "delete", name)
    assert code == errors.ProfileError.exit_code
    assert_one_error(err, "invalid profile name")
    assert out == "" and files_in(bystanders) == before


def test_profiles_delete_removes_only_that_profile(bystanders, capfd):
    for name in ("desk", "sofa"):
        profiles.save_profile(example_profile(), profiles.named_path(name))
    before = files_in(bystanders)
    assert run(capfd, "profiles", "delete", "desk")[:2] == (0, "deleted profile desk\n")
    after = files_in(bystanders)
    assert set(before) - set(after) == {"home/config/profiles/desk.json"}
    assert run(capfd, "profiles", "delete", "desk")[0] == errors.ProfileError.exit_code


def test_profiles_delete_of_a_symlinked_profile_removes_the_link_not_its_target(bystanders, capfd):
    folder = profiles.profiles_dir()
    folder.mkdir(parents=True)
    (folder / "evil.json").symlink_to(bystanders / "x.txt")
    assert run(capfd, "profiles", "delete", "evil")[0] == 0
    assert not (folder / "evil.json").is_symlink()
    assert (bystanders / "x.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("action", ["show", "use"])
@pytest.mark.parametrize("name", ["notes.json", "../../x.txt"])
def test_profiles_show_and_use_take_names_only(bystanders, capfd, action, name):
    before = files_in(bystanders)
    code, _, err = run(capfd, "profiles", action, name)
    assert code == errors.ProfileError.exit_code
    assert_one_error(err, "invalid profile name")
    assert files_in(bystanders) == before


@pytest.mark.parametrize("name", ["../../etc/x", "notes.json", "sub/desk", "{abs}/etc/x"])
def test_calibrate_profile_must_be_a_name_and_nothing_is_created_or_moved(bystanders, capfd, name):
    log = small_log(bystanders / "s.jsonl")
    before = files_in(bystanders)
    code, out, err = run(capfd, "calibrate", "--from-video", log, "--profile", name.format(abs=bystanders))
    assert code == errors.ProfileError.exit_code
    assert_one_error(err, "invalid profile name")
    assert out == "" and files_in(bystanders) == before
    assert not (bystanders / "etc").exists() and not (bystanders / "a" / "etc").exists()


def test_analyze_profile_is_a_name_and_calibration_is_a_file(bystanders, capfd):
    log = small_log(bystanders / "s.jsonl")
    code, _, err = run(capfd, "analyze", log, "--profile", str(EXAMPLE))
    assert code == errors.ProfileError.exit_code
    assert_one_error(err, "invalid profile name")
    code, out, err = run(capfd, "analyze", log, "--calibration", str(EXAMPLE), "--json")
    assert code == 0 and err == "" and '"episodes"' in out


@pytest.mark.video
def test_calibrate_output_writes_the_file_it_names(bystanders, capfd):
    code, out, err = run(capfd, "calibrate", "--from-video", clips.pose_log(MIXED), "--end", "7",
                         "--output", "mine.json")
    assert code == 0, err
    assert profiles.read_profile(bystanders / "a" / "b" / "mine.json").baseline.frames >= 30
    assert not profiles.profiles_dir().exists()  # nothing in the profiles folder


def test_calibrate_output_never_replaces_a_file_that_is_not_a_profile(bystanders, capfd):
    log = small_log(bystanders / "s.jsonl")
    before = files_in(bystanders)
    code, _, err = run(capfd, "calibrate", "--from-video", log, "--output", "notes.json")
    assert code == errors.OutputError.exit_code
    assert_one_error(err, "notes.json exists and is not a calibration profile")
    assert files_in(bystanders) == before


# --- no output is an input or another output ----------------------------------------------


def _same_file_cases(t: Path) -> list[tuple[str, list]]:
    log = small_log(t / "s.jsonl")
    (t / "link.jsonl").symlink_to(log)
    os.link(log, t / "hard.jsonl")
    (t / "sub").mkdir()
    shutil.copy(EXAMPLE, t / "p.json")
    return [
        ("csv is the input", [log, "--csv", log]),
        ("poses is the input", [log, "--poses", log]),
        ("csv and poses are one file", [log, "--csv", t / "o.csv", "--poses", t / "o.csv"]),
        ("csv through a symlink to the input", [log, "--csv", t / "link.jsonl"]),
        ("input through a symlink, csv the file", [t / "link.jsonl", "--csv", log]),
        ("csv a hard link of the input", [log, "--poses", t / "hard.jsonl"]),
        ("csv spelled relative with ..", [log, "--csv", t / "sub" / ".." / "s.jsonl"]),
        ("csv and poses spelled differently", [log, "--csv", t / "o.csv", "--poses", t / "sub" / ".." / "o.csv"]),
        ("csv is the calibration file", [log, "--calibration", t / "p.json", "--csv", t / "p.json"]),
    ]


CASES = ["csv is the input", "poses is the input", "csv and poses are one file",
         "csv through a symlink to the input", "input through a symlink, csv the file",
         "csv a hard link of the input", "csv spelled relative with ..",
         "csv and poses spelled differently", "csv is the calibration file"]


@pytest.mark.parametrize("case", CASES)
def test_analyze_refuses_an_output_that_is_an_input_or_another_output(tmp_path, capfd, case):
    argv = dict(_same_file_cases(tmp_path))[case]
    before = files_in(tmp_path)
    code, out, err = run(capfd, "analyze", *argv)
    assert code == errors.UsageError.exit_code
    assert_one_error(err, "same file")
    assert out == "" and files_in(tmp_path) == before


def test_analyze_refuses_to_write_over_the_pose_model(tmp_path, capfd):
    model = tmp_path / "pose_landmarker_lite.task"
    shutil.copy(clips.model_path("lite"), model)
    before = files_in(tmp_path)
    code, _, err = run(capfd, "analyze", clips.video("render_m1_upright_steady"), "--model", model,
                       "--end", "1", "--csv", model)
    assert code == errors.UsageError.exit_code
    assert_one_error(err, "the pose model")
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("spelling", ["same", "symlink"])
def test_calibrate_output_may_not_be_the_recording(tmp_path, capfd, spelling):
    log = small_log(tmp_path / "s.jsonl")
    if spelling == "symlink":
        (tmp_path / "l.jsonl").symlink_to(log)
    output = log if spelling == "same" else tmp_path / "l.jsonl"
    before = files_in(tmp_path)
    code, _, err = run(capfd, "calibrate", "--from-video", log, "--output", output)
    assert code == errors.UsageError.exit_code
    assert_one_error(err, "same file")
    assert files_in(tmp_path) == before


def test_same_file_sees_through_symlinks_hard_links_and_dots(tmp_path):
    a = tmp_path / "a"
    a.write_text("x")
    (tmp_path / "s").symlink_to(a)
    os.link(a, tmp_path / "h")
    assert same_file(a, tmp_path / "s") and same_file(a, tmp_path / "h")
    assert same_file(a, tmp_path / "." / "a") and same_file(tmp_path / "new", tmp_path / "x" / ".." / "new")
    (tmp_path / "b").write_text("x")
    assert not same_file(a, tmp_path / "b") and not same_file(a, tmp_path / "new")


# --- backups are numbered, never overwritten ------------------------------------------------


def test_each_malformed_profile_gets_its_own_backup(tmp_path):
    path = tmp_path / "desk.json"
    for n in range(3):
        path.write_text(f"broken {n}")
        moved = profiles.save_profile(example_profile(), path)
        assert moved == tmp_path / ("desk.json.broken" + (f".{n}" if n else ""))
    assert (tmp_path / "desk.json.broken").read_text() == "broken 0"
    assert (tmp_path / "desk.json.broken.1").read_text() == "broken 1"
    assert (tmp_path / "desk.json.broken.2").read_text() == "broken 2"
    assert profiles.read_profile(path).baseline == example_profile().baseline


def test_a_second_malformed_save_through_the_cli_keeps_the_first_backup(tmp_path, capfd):
    log = small_log(tmp_path / "s.jsonl", frames=40)  # a person in 20 frames: enough to calibrate
    path = profiles.named_path("default")
    path.parent.mkdir(parents=True)
    for n in range(2):
        path.write_text(f'{{"broken": {n}')
        code, _, err = run(capfd, "calibrate", "--from-video", log)
        assert code == 0, err
        assert "kept it as" in err
    assert (path.parent / "default.json.broken").read_text() == '{"broken": 0'
    assert (path.parent / "default.json.broken.1").read_text() == '{"broken": 1'


def test_numbered_backup_skips_names_that_exist(tmp_path):
    path = tmp_path / "f"
    (tmp_path / "f.broken").write_text("old 0")
    (tmp_path / "f.broken.1").write_text("old 1")
    path.write_text("now")
    assert numbered_backup(path) == tmp_path / "f.broken.2"
    assert files_in(tmp_path) == {"f.broken": b"old 0", "f.broken.1": b"old 1", "f.broken.2": b"now"}


# --- a model is installed only once it loaded and ran ------------------------------------


def _looks_like_a_bundle(path: Path) -> Path:
    """Both members present, each starting like a TFLite model - and nothing more."""
    with zipfile.ZipFile(path, "w") as z:
        for name in models.TFLITE_FILES:
            z.writestr(name, b"\0\0\0\0TFL3" + os.urandom(4000))
    return path


def _swapped_bundle(path: Path) -> Path:
    """Two real networks in each other's place: MediaPipe loads it, then fails on a frame."""
    with zipfile.ZipFile(clips.model_path("lite")) as real, zipfile.ZipFile(path, "w") as z:
        detector, landmarks = (real.read(n) for n in models.TFLITE_FILES)
        z.writestr(models.TFLITE_FILES[0], landmarks)
        z.writestr(models.TFLITE_FILES[1], detector)
    return path


@pytest.fixture
def working_cache(monkeypatch) -> Path:
    for name in (models.MODEL_ENV, models.MODEL_DIR_ENV, models.MODEL_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    cache = models.default_cache_dir()
    cache.mkdir(parents=True)
    shutil.copy(clips.model_path("lite"), cache / "pose_landmarker_lite.task")
    return cache


@pytest.mark.parametrize("make,words", [(_looks_like_a_bundle, "MediaPipe cannot load"),
                                        (_swapped_bundle, "cannot run it")],
                         ids=["looks like a bundle", "networks swapped"])
def test_model_install_of_a_bundle_that_does_not_run_keeps_the_cached_model(
        tmp_path, capfd, working_cache, make, words):
    fake = make(tmp_path / "pose_landmarker_lite.task")
    models.validate_bundle(fake)  # it passes the cheap shape check...
    before = files_in(working_cache)
    code, out, err = run(capfd, "model", "install", fake)
    assert code == errors.ModelError.exit_code
    assert_one_error(err, "is not a working pose model, so nothing was installed", words)
    assert out == "" and files_in(working_cache) == before  # ... and changes nothing


def test_model_install_of_the_cached_file_onto_itself(capfd, working_cache):
    cached = working_cache / "pose_landmarker_lite.task"
    before = files_in(working_cache)
    assert run(capfd, "model", "install", cached)[:3] == (0, f"{cached}\n", "")
    assert files_in(working_cache) == before


# --- atomic writes ----------------------------------------------------------------------


def test_two_writers_of_one_file_use_their_own_temp_files(tmp_path):
    path = tmp_path / "out.csv"
    first, second = AtomicFile(path, "a"), AtomicFile(path, "b")
    assert first.tmp != second.tmp
    first.write("first\n" * 1000)
    second.write("second\n")
    first.commit()
    assert path.read_text() == "first\n" * 1000
    second.commit()
    assert files_in(tmp_path) == {"out.csv": b"second\n"}


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        with AtomicFile(path, "the CSV file") as out:
            out.write("new\n")
            1 / 0
    assert files_in(tmp_path) == {"out.csv": b"old\n"}


def test_writing_through_a_symlink_keeps_the_link_and_the_mode(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    target.chmod(0o640)
    (tmp_path / "link.csv").symlink_to(target)
    with AtomicFile(tmp_path / "link.csv", "the CSV file") as out:
        out.write("new")
    assert (tmp_path / "link.csv").is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(files_in(tmp_path)) == ["link.csv", "real.csv"]


def test_a_device_is_written_in_place_never_replaced(capfd, tmp_path):
    """/dev/full: every write fails with ENOSPC - one line, exit 11, and it stays a device."""
    code, out, err = run(capfd, "analyze", small_log(tmp_path / "s.jsonl"), "--csv", "/dev/full")
    assert code == errors.OutputError.exit_code
    assert_one_error(err, "/dev/full: cannot write the CSV file (No space left on device)")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert sorted(files_in(tmp_path)) == ["s.jsonl"]
