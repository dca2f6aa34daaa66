"""The model adapter and `posturewatch model`, with real files and a real local HTTP server.

Nothing here leaves 127.0.0.1: downloads come from a server on a free local
port that serves the shared model bundles, and "offline" is a closed local port.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from posturewatch.adapters import models
from posturewatch.app import cli
from posturewatch.app.model_cmd import DownloadProgress
from posturewatch.errors import ModelError, NetworkError, OutputError

TFLITE_HEAD = b"\x1c\x00\x00\x00TFL3" + b"\x00" * 24


# --- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The real bundles: POSTUREWATCH_MODEL_DIR (set by ./dev test), else ../shared/models."""
    found = os.environ.get("POSTUREWATCH_MODEL_DIR")
    path = Path(found) if found else Path(__file__).resolve().parents[2] / "shared" / "models"
    assert (path / "pose_landmarker_lite.task").is_file(), f"no model bundles in {path}"
    return path


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """An environment whose user dirs all live under tmp_path, with no model settings."""
    return {"POSTUREWATCH_HOME": str(tmp_path / "home")}


@pytest.fixture
def cache(env) -> Path:
    return models.default_cache_dir(env)


@pytest.fixture
def cli_env(monkeypatch, env) -> dict[str, str]:
    """The same clean environment, for commands that read os.environ."""
    for name in (models.MODEL_ENV, models.MODEL_DIR_ENV, models.MODEL_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTUREWATCH_HOME", env["POSTUREWATCH_HOME"])
    return env


class _ModelHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the shared folder; /truncated/ and /garbage/ misbehave on purpose."""

    def do_GET(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/truncated/"):
            data = (Path(self.directory) / name).read_bytes()
            self._send(data[: len(data) // 2], length=len(data))
        elif self.path.startswith("/garbage/"):
            self._send(b"<html>a captive portal, not a model</html>")
        else:
            super().do_GET()

    def _send(self, body: bytes, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def model_server(shared_models):
    """Base URL of an HTTP server on 127.0.0.1 serving the shared model bundles."""
    handler = functools.partial(_ModelHandler, directory=str(shared_models))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def closed_url() -> str:
    """A URL on a local port nobody listens on: what "offline" looks like."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


# --- names and URLs ------------------------------------------------------------


def test_default_variant_is_one_of_the_variants():
    assert models.VARIANTS == ("lite", "full", "heavy")
    assert models.DEFAULT_VARIANT in models.VARIANTS


def test_official_url_and_mirror_url():
    assert models.model_url("full") == (
        "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
        "pose_landmarker_full/float16/1/pose_landmarker_full.task")
    assert models.model_url("lite", "http://127.0.0.1:1/m/") == (
        "http://127.0.0.1:1/m/pose_landmarker_lite.task")


@pytest.mark.parametrize("name, variant", [
    ("pose_landmarker_heavy.task", "heavy"),
    ("Pose-Landmarker-LITE.task", "lite"),
    ("full.task", "full"),
    ("mymodel.task", None),
    ("fullbody.task", None),  # "full" inside a word is not a variant
    ("lite_or_full.task", None),  # two variants: ambiguous
])
def test_guess_variant(name, variant):
    assert models.guess_variant(name) == variant


# --- checking a bundle -------------------------------------------------------


@pytest.mark.parametrize("variant", models.VARIANTS)
def test_the_real_bundles_are_valid(shared_models, variant):
    models.validate_bundle(shared_models / models.bundle_name(variant))


def _random_bytes(path: Path) -> Path:
    path.write_bytes(os.urandom(4096))
    return path


def _zip_without_models(path: Path) -> Path:
    return _zip(path, {"readme.txt": b"hello"})


def _zip_one_model_missing(path: Path) -> Path:
    return _zip(path, {"pose_detector.tflite": TFLITE_HEAD})


def _zip_garbage_models(path: Path) -> Path:
    return _zip(path, {n: os.urandom(64) for n in models.TFLITE_FILES})


def _zip_empty_models(path: Path) -> Path:
    return _zip(path, {n: b"" for n in models.TFLITE_FILES})


CORRUPT = {
    "random bytes": (_random_bytes, "not a zip file"),
    "zip without models": (_zip_without_models, "holds no pose_detector.tflite"),
    "zip with one model": (_zip_one_model_missing, "holds no pose_landmarks_detector.tflite"),
    "zip with garbage models": (_zip_garbage_models, "is not a TFLite model"),
    "zip with empty models": (_zip_empty_models, "is empty"),
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_validate_bundle_rejects_files_that_are_not_models(tmp_path, kind):
    make, why = CORRUPT[kind]
    path = make(tmp_path / "pose_landmarker_full.task")
    with pytest.raises(ModelError, match=why) as caught:
        models.validate_bundle(path)
    assert str(path) in str(caught.value)


def test_a_minimal_valid_bundle_passes(tmp_path):
    models.validate_bundle(_zip(tmp_path / "m.task", {n: TFLITE_HEAD for n in models.TFLITE_FILES}))


@pytest.mark.parametrize("kind", CORRUPT)
def test_resolving_a_corrupt_file_names_where_it_came_from(tmp_path, env, cache, kind):
    cache.mkdir(parents=True)
    CORRUPT[kind][0](cache / "pose_landmarker_full.task")
    with pytest.raises(ModelError, match="not a pose model bundle.*the cache dir"):
        models.resolve_model(None, env, allow_download=False)


def test_validate_bundle_on_a_directory_and_a_missing_file(tmp_path):
    with pytest.raises(ModelError, match="is a directory"):
        models.validate_bundle(tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        models.validate_bundle(tmp_path / "nope.task")


# --- resolving ---------------------------------------------------------------

LEVELS = ("spec", "env_file", "env_dir", "cache", "download")


def _setup_levels(tmp_path, shared, env, cache, server, first: str) -> tuple[str | None, dict]:
    """Make a model available at `first` and every level below it; returns (spec, env)."""
    levels = LEVELS[LEVELS.index(first):]
    lite = shared / "pose_landmarker_lite.task"
    env = dict(env, **{models.MODEL_URL_ENV: server})
    spec = None
    if "spec" in levels:
        spec = str(tmp_path / "given.task")
        os.symlink(lite, spec)
    if "env_file" in levels:
        os.symlink(lite, tmp_path / "from_env.task")
        env[models.MODEL_ENV] = str(tmp_path / "from_env.task")
    if "env_dir" in levels:
        (tmp_path / "dir").mkdir()
        os.symlink(lite, tmp_path / "dir" / "pose_landmarker_full.task")
        env[models.MODEL_DIR_ENV] = str(tmp_path / "dir")
    if "cache" in levels:
        cache.mkdir(parents=True)
        os.symlink(lite, cache / "pose_landmarker_full.task")
    return spec, env


@pytest.mark.parametrize("first, path, reason", [
    ("spec", "given.task", "from --model"),
    ("env_file", "from_env.task", "from POSTUREWATCH_MODEL"),
    ("env_dir", "dir/pose_landmarker_full.task", "found in POSTUREWATCH_MODEL_DIR="),
    ("cache", "home/cache/models/pose_landmarker_full.task", "found in the cache dir"),
    ("download", "home/cache/models/pose_landmarker_full.task", "downloaded from http://127"),
])
def test_resolution_order(tmp_path, shared_models, env, cache, model_server, first, path, reason):
    spec, env = _setup_levels(tmp_path, shared_models, env, cache, model_server, first)
    found = models.resolve_model(spec, env, allow_download=True)
    assert found.path == tmp_path / path
    assert found.reason.startswith(reason)
    assert found.path.is_file()


def test_resolve_with_default_cache_dir_follows_posturewatch_home(shared_models, env, cache):
    cache.mkdir(parents=True)
    shutil.copy(shared_models / "pose_landmarker_full.task", cache)
    found = models.resolve_model(None, env, allow_download=False)
    assert found == models.ResolvedModel("full", cache / "pose_landmarker_full.task",
                                         f"found in the cache dir {cache}")


def test_a_variant_spec_picks_that_bundle_and_skips_posturewatch_model(shared_models, env):
    env = dict(env, POSTUREWATCH_MODEL=str(shared_models / "pose_landmarker_heavy.task"),
               POSTUREWATCH_MODEL_DIR=str(shared_models))
    found = models.resolve_model("lite", env, allow_download=False)
    assert (found.variant, found.path) == ("lite", shared_models / "pose_landmarker_lite.task")


def test_model_dir_without_that_variant_falls_back_to_the_cache(tmp_path, shared_models, env,
                                                                 cache):
    (tmp_path / "empty").mkdir()
    cache.mkdir(parents=True)
    shutil.copy(shared_models / "pose_landmarker_heavy.task", cache)
    env = dict(env, POSTUREWATCH_MODEL_DIR=str(tmp_path / "empty"))
    found = models.resolve_model("heavy", env, allow_download=False)
    assert found.path == cache / "pose_landmarker_heavy.task"


def test_a_path_spec_guesses_its_variant(shared_models, env):
    found = models.resolve_model(str(shared_models / "pose_landmarker_heavy.task"), env)
    assert found.variant == "heavy"


@pytest.mark.parametrize("spec", ["medium", "Full", "pose"])
def test_unknown_variant(tmp_path, monkeypatch, env, spec):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as caught:
        models.resolve_model(spec, env, allow_download=False)
    assert str(caught.value) == (
        f"unknown model {spec!r}: use lite, full, heavy or a path to a .task file")


@pytest.mark.parametrize("spec", ["nowhere/pose_landmarker_full.task", "missing.task"])
def test_missing_path(tmp_path, env, spec, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        models.resolve_model(spec, env)


def test_missing_posturewatch_model_file(tmp_path, env):
    env = dict(env, POSTUREWATCH_MODEL=str(tmp_path / "gone.task"))
    with pytest.raises(ModelError, match="gone.task does not exist.*from POSTUREWATCH_MODEL"):
        models.resolve_model(None, env)


def test_nothing_found_and_no_download_allowed(env, cache):
    with pytest.raises(ModelError) as caught:
        models.resolve_model(None, env, allow_download=False)
    message = str(caught.value)
    assert message.startswith("no pose model found (looked for pose_landmarker_full.task")
    assert str(cache) in message and "posturewatch model download full" in message


def test_offline_with_no_model_gives_one_clear_error(env, cache, closed_url):
    env = dict(env, POSTUREWATCH_MODEL_URL=closed_url)
    with pytest.raises(ModelError) as caught:
        models.resolve_model(None, env, allow_download=True)
    message = str(caught.value)
    assert message.startswith("no pose model found and the download failed (cannot reach ")
    assert "posturewatch model install FILE" in message and "POSTUREWATCH_MODEL_DIR" in message
    assert "\n" not in message
    assert _files(cache) == []


def test_resolve_downloads_once_then_uses_the_cache(env, cache, model_server):
    env = dict(env, POSTUREWATCH_MODEL_URL=model_server)
    calls = []
    first = models.resolve_model("lite", env, allow_download=True,
                                 progress=lambda d, t: calls.append((d, t)))
    assert first.reason.startswith("downloaded") and calls
    second = models.resolve_model("lite", dict(env, POSTUREWATCH_MODEL_URL="http://127.0.0.1:9"))
    assert second.path == first.path and second.reason.startswith("found in the cache dir")


def test_resolving_never_downloads_unless_asked(env, cache, model_server):
    # Only `model download` uses the network (docs/privacy.md); a server is there to be used.
    env = dict(env, POSTUREWATCH_MODEL_URL=model_server)
    with pytest.raises(ModelError, match="posturewatch model download lite"):
        models.resolve_model("lite", env)
    assert _files(cache) == []


# --- downloading ---------------------------------------------------------------


def test_download_streams_reports_progress_and_verifies(shared_models, tmp_path, model_server):
    calls = []
    path = models.download("lite", tmp_path / "dest", lambda d, t: calls.append((d, t)),
                           base_url=model_server)
    source = shared_models / "pose_landmarker_lite.task"
    assert path == tmp_path / "dest" / "pose_landmarker_lite.task"
    assert _sha(path) == _sha(source)
    size = source.stat().st_size
    assert len(calls) > 1 and calls[-1] == (size, size)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert _files(tmp_path / "dest") == ["pose_landmarker_lite.task"]


@pytest.mark.parametrize("folder, why", [
    ("/missing", "HTTP 404"),
    ("/truncated", "broke off|stopped after"),
    ("/garbage", "not a pose model bundle: not a zip file"),
])
def test_a_failed_download_leaves_nothing_behind(tmp_path, model_server, folder, why):
    with pytest.raises(NetworkError, match=why):
        models.download("lite", tmp_path, base_url=model_server + folder)
    assert _files(tmp_path) == []


def test_a_failed_download_keeps_the_model_already_there(shared_models, tmp_path, model_server):
    good = shutil.copy(shared_models / "pose_landmarker_lite.task", tmp_path)
    before = _sha(Path(good))
    with pytest.raises(NetworkError):
        models.download("lite", tmp_path, base_url=model_server + "/truncated")
    assert _sha(Path(good)) == before
    assert _files(tmp_path) == ["pose_landmarker_lite.task"]


def test_download_offline(tmp_path, closed_url):
    with pytest.raises(NetworkError, match="cannot reach http://127.0.0.1"):
        models.download("full", tmp_path, base_url=closed_url)
    assert _files(tmp_path) == []


def test_download_into_an_unwritable_folder(tmp_path, model_server):
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write to the model folder"):
        models.download("lite", tmp_path / "a_file" / "models", base_url=model_server)


def test_resolve_with_an_unwritable_cache(tmp_path, env, model_server):
    (tmp_path / "a_file").write_text("not a folder")
    env = dict(env, POSTUREWATCH_MODEL_URL=model_server)
    with pytest.raises(OutputError, match="a_file"):
        models.resolve_model(None, env, cache_dir=tmp_path / "a_file" / "models",
                             allow_download=True)


# --- installing --------------------------------------------------------------


def test_install_copies_and_names_by_variant(shared_models, tmp_path):
    path = models.install(shared_models / "pose_landmarker_heavy.task", tmp_path / "c")
    assert path == tmp_path / "c" / "pose_landmarker_heavy.task"
    assert _sha(path) == _sha(shared_models / "pose_landmarker_heavy.task")
    assert _files(tmp_path / "c") == ["pose_landmarker_heavy.task"]


def test_install_needs_a_variant_when_the_name_says_none(shared_models, tmp_path):
    odd = shutil.copy(shared_models / "pose_landmarker_lite.task", tmp_path / "mymodel.task")
    with pytest.raises(ModelError, match="give --variant lite|full|heavy"):
        models.install(odd, tmp_path / "c")
    assert models.install(odd, tmp_path / "c", "lite") == tmp_path / "c" / "pose_landmarker_lite.task"


@pytest.mark.parametrize("kind", CORRUPT)
def test_install_refuses_a_corrupt_file_and_writes_nothing(tmp_path, kind):
    make, why = CORRUPT[kind]
    with pytest.raises(ModelError, match=why):
        models.install(make(tmp_path / "pose_landmarker_full.task"), tmp_path / "c")
    assert _files(tmp_path / "c") == []


def test_install_a_missing_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        models.install(tmp_path / "pose_landmarker_full.task", tmp_path / "c")


# --- the command line ----------------------------------------------------------


def _one_error_line(err: str, starts: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"posturewatch: error: {starts}"), err


def test_cli_model_path(cli_env, shared_models, monkeypatch, capsys):
    monkeypatch.setenv("POSTUREWATCH_MODEL_DIR", str(shared_models))
    assert cli.main(["model", "path"]) == 0
    out = capsys.readouterr().out
    assert f"pose model: {shared_models / 'pose_landmarker_full.task'}" in out
    assert "POSTUREWATCH_MODEL_DIR=" in out


def test_cli_model_path_json(cli_env, shared_models, capsys):
    assert cli.main(["model", "path", "--model", str(shared_models / "pose_landmarker_lite.task"),
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"path": str(shared_models / "pose_landmarker_lite.task"),
                    "variant": "lite", "reason": "from --model"}


@pytest.mark.parametrize("argv, starts", [
    (["model", "path"], "no pose model found"),
    (["model", "path", "--model", "medium"], "unknown model 'medium'"),
    (["model", "path", "--model", "gone.task"], "model file gone.task does not exist"),
])
def test_cli_model_path_errors(cli_env, tmp_path, monkeypatch, capsys, argv, starts):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == ModelError.exit_code
    captured = capsys.readouterr()
    _one_error_line(captured.err, starts)
    assert captured.out == ""
    assert _files(models.default_cache_dir(cli_env)) == []  # `path` never downloads


def test_cli_model_download(cli_env, model_server, monkeypatch, capsys):
    monkeypatch.setenv("POSTUREWATCH_MODEL_URL", model_server)
    assert cli.main(["model", "download", "lite"]) == 0
    captured = capsys.readouterr()
    path = models.default_cache_dir(cli_env) / "pose_landmarker_lite.task"
    assert captured.out == f"{path}\n"
    assert captured.err == "downloaded pose_landmarker_lite.task (5.8 MB)\n"  # not a TTY
    models.validate_bundle(path)


def test_cli_model_download_offline(cli_env, closed_url, monkeypatch, capsys):
    monkeypatch.setenv("POSTUREWATCH_MODEL_URL", closed_url)
    assert cli.main(["model", "download"]) == NetworkError.exit_code
    captured = capsys.readouterr()
    _one_error_line(captured.err, "cannot reach")
    assert "posturewatch model install FILE" in captured.err


def test_cli_model_download_unknown_variant(cli_env, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["model", "download", "medium"])
    assert caught.value.code == 2  # argparse's usage error
    assert "invalid choice: 'medium'" in capsys.readouterr().err


def test_cli_model_install_then_list(cli_env, shared_models, capsys):
    assert cli.main(["model", "install", str(shared_models / "pose_landmarker_heavy.task")]) == 0
    cache = models.default_cache_dir(cli_env)
    assert capsys.readouterr().out == f"{cache / 'pose_landmarker_heavy.task'}\n"
    assert cli.main(["model", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("lite") and "missing" in lines[0]
    assert lines[1].startswith("full   (default)") and "missing" in lines[1]
    assert lines[2].startswith("heavy") and f"ok: {cache / 'pose_landmarker_heavy.task'}" in lines[2]


def test_cli_model_list_json_shows_damaged_files(cli_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTUREWATCH_MODEL_DIR", str(tmp_path))
    _random_bytes(tmp_path / "pose_landmarker_lite.task")
    assert cli.main(["model", "list", "--json"]) == 0
    rows = {row["variant"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["lite"]["problem"] == "not a zip file"
    assert rows["full"]["default"] and rows["full"]["path"] is None


def test_cli_model_install_errors(cli_env, tmp_path, capsys):
    bad = _random_bytes(tmp_path / "pose_landmarker_full.task")
    assert cli.main(["model", "install", str(bad)]) == ModelError.exit_code
    _one_error_line(capsys.readouterr().err, f"{bad} is not a pose model bundle")


def test_cli_unwritable_cache(tmp_path, shared_models, monkeypatch, cli_env, capsys):
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("POSTUREWATCH_HOME", str(tmp_path / "a_file"))
    argv = ["model", "install", str(shared_models / "pose_landmarker_lite.task")]
    assert cli.main(argv) == OutputError.exit_code
    _one_error_line(capsys.readouterr().err, "cannot write to the model folder")


def test_cli_model_help_names_the_env_vars(capsys):
    with pytest.raises(SystemExit):
        cli.main(["model", "path", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in ("POSTUREWATCH_MODEL,", "POSTUREWATCH_MODEL_DIR", "POSTUREWATCH_MODEL_URL"):
        assert name in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line():
    term = _Terminal()
    progress = DownloadProgress(term, "x.task")
    for done in range(0, 2_000_001, 1000):
        progress(done, 2_000_000)
    text = term.getvalue()
    assert text.startswith("\rdownloading x.task: 0.0 of 2.0 MB (0%)")
    assert text.endswith("\rdownloading x.task: 2.0 of 2.0 MB (100%)\n")
    assert text.count("\n") == 1
    assert text.count("\r") < 150  # redrawn when the numbers change, not per chunk


def test_progress_elsewhere_prints_one_final_line():
    stream = io.StringIO()
    progress = DownloadProgress(stream, "x.task")
    for done in (0, 1_000_000, 2_500_000):
        progress(done, None)
    assert stream.getvalue() == ""
    progress(2_500_000, 2_500_000)  # download() signals the end this way when size is unknown
    assert stream.getvalue() == "downloaded x.task (2.5 MB)\n"


def test_cli_install_notes_a_model_that_wins_over_it(cli_env, shared_models, monkeypatch, capsys):
    monkeypatch.setenv("POSTUREWATCH_MODEL_DIR", str(shared_models))
    assert cli.main(["model", "install", str(shared_models / "pose_landmarker_lite.task")]) == 0
    err = capsys.readouterr().err
    assert err == (f"posturewatch: note: {shared_models / 'pose_landmarker_lite.task'} is used "
                   f"first (found in POSTUREWATCH_MODEL_DIR={shared_models})\n")
