"""Find, download, install and check the MediaPipe pose model bundle (.task).

A bundle is a zip holding `pose_detector.tflite` and
`pose_landmarks_detector.tflite`. We check that shape cheaply ourselves, so
that a file that is not a model gives a clear error before MediaPipe sees it.

Where a model comes from, first match wins (see `resolve_model`):
an explicit path > `POSTUREWATCH_MODEL` (a file) > `POSTUREWATCH_MODEL_DIR`
(a folder of `pose_landmarker_<variant>.task`) > the user cache dir > a
download into the cache dir (from `POSTUREWATCH_MODEL_URL` when set).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping

from .. import __version__
from ..errors import ModelError, NetworkError, OutputError
from .files import same_file
from .paths import user_dirs

log = logging.getLogger(__name__)

VARIANTS = ("lite", "full", "heavy")
# "full": on a 2-core CPU it costs about what "lite" does (~20-25 ms vs ~20 ms
# a frame) and its head and shoulder landmarks are steadier, which is what
# posture scoring measures; "heavy" is ~4x slower for little gain at a desk.
DEFAULT_VARIANT = "full"

MODEL_ENV = "POSTUREWATCH_MODEL"
MODEL_DIR_ENV = "POSTUREWATCH_MODEL_DIR"
MODEL_URL_ENV = "POSTUREWATCH_MODEL_URL"
OFFICIAL_BASE_URL = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"
TFLITE_FILES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
TFLITE_ID = b"TFL3"  # FlatBuffers file identifier, bytes 4..8 of a .tflite
_CHUNK = 1 << 16

Progress = Callable[[int, "int | None"], None]
# Raises ModelError unless the bundle at the path loads and runs (app/model_probe.py);
# models.py itself never imports MediaPipe.
Check = Callable[[Path], None]


@dataclass(frozen=True)
class ResolvedModel:
    """The model file to load, its variant when known, and why it was chosen."""

    variant: str | None
    path: Path
    reason: str


def bundle_name(variant: str) -> str:
    return f"pose_landmarker_{variant}.task"


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    return user_dirs(env).cache / "models"


def model_url(variant: str, base_url: str | None = None) -> str:
    """Google's URL, or `<base_url>/pose_landmarker_<variant>.task` for a mirror."""
    _check_variant(variant)
    if base_url:
        return f"{base_url.rstrip('/')}/{bundle_name(variant)}"
    return f"{OFFICIAL_BASE_URL}/pose_landmarker_{variant}/float16/1/{bundle_name(variant)}"


def guess_variant(filename: str) -> str | None:
    """The variant a file name names ("my_full.task" -> "full"), if exactly one."""
    found = set(re.findall(r"(?<![a-z])(lite|full|heavy)(?![a-z])", filename.lower()))
    return found.pop() if len(found) == 1 else None


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ModelError(f"unknown model variant {variant!r}: use {_variant_list()}")


def _variant_list() -> str:
    return ", ".join(VARIANTS[:-1]) + f" or {VARIANTS[-1]}"


# --- checking a bundle -------------------------------------------------------


def validate_bundle(path: str | os.PathLike) -> None:
    """Raise ModelError unless `path` is a zip holding both non-empty TFLite models."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a .task file" if path.is_dir() else "does not exist"
        raise ModelError(f"model file {path} {what}")
    problem = bundle_problem(path)
    if problem:
        raise ModelError(f"{path} is not a pose model bundle: {problem}")


def bundle_problem(path: Path) -> str | None:
    """Why the file at `path` is not a pose bundle, or None when it is one."""
    try:
        with zipfile.ZipFile(path) as bundle:
            for name in TFLITE_FILES:
                problem = _tflite_problem(bundle, name)
                if problem:
                    return problem
    except zipfile.BadZipFile:
        return "not a zip file"
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    return None


def _tflite_problem(bundle: zipfile.ZipFile, name: str) -> str | None:
    try:
        info = bundle.getinfo(name)
    except KeyError:
        return f"it holds no {name}"
    if info.file_size == 0:
        return f"its {name} is empty"
    try:
        with bundle.open(info) as member:
            head = member.read(8)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
        return f"its {name} cannot be read ({exc})"
    return None if head[4:8] == TFLITE_ID else f"its {name} is not a TFLite model"


# --- resolving ---------------------------------------------------------------


def resolve_model(
    spec: str | None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
) -> ResolvedModel:
    """The model file to use; `spec` is None, a variant name or a path to a .task file.

    A variant in `spec` picks which bundle to look for and skips
    POSTUREWATCH_MODEL, which names one file of unknown variant. Nothing is
    downloaded unless `allow_download`: only `model download` uses the network
    (docs/privacy.md), so the commands stop with how to get a model instead.
    """
    env = os.environ if env is None else env
    cache_dir = default_cache_dir(env) if cache_dir is None else Path(cache_dir)
    spec = spec or None  # an empty --model means "the default"
    if spec is not None and spec not in VARIANTS:
        return _checked(_model_from_path(spec))
    if spec is None and env.get(MODEL_ENV):
        path = Path(env[MODEL_ENV]).expanduser()
        return _checked(ResolvedModel(guess_variant(path.name), path, f"from {MODEL_ENV}"))
    variant = spec or DEFAULT_VARIANT
    found = next(_installed(variant, env, cache_dir), None)
    if found is not None:
        return _checked(found)
    if not allow_download:
        raise ModelError(f"no pose model found ({_where_looked(variant, env, cache_dir)}): "
                         f"{_remedy(variant)}")
    return _download_for(variant, env, cache_dir, progress)


def _model_from_path(spec: str) -> ResolvedModel:
    path = Path(spec).expanduser()
    if path.exists() or spec.endswith(".task") or os.sep in spec or "/" in spec:
        return ResolvedModel(guess_variant(path.name), path, "from --model")
    raise ModelError(f"unknown model {spec!r}: use {', '.join(VARIANTS)} or a path to a .task file")


def _checked(model: ResolvedModel) -> ResolvedModel:
    """The model, once its file is a readable bundle; the error says where it came from."""
    try:
        validate_bundle(model.path)
    except ModelError as exc:
        raise ModelError(f"{exc} ({model.reason})") from None
    log.debug("pose model %s (%s)", model.path, model.reason)
    return model


def _installed(variant: str, env: Mapping[str, str], cache_dir: Path) -> Iterator[ResolvedModel]:
    """The bundles for `variant` already on disk, best first."""
    model_dir = env.get(MODEL_DIR_ENV)
    if model_dir:
        path = Path(model_dir).expanduser() / bundle_name(variant)
        if path.is_file():
            yield ResolvedModel(variant, path, f"found in {MODEL_DIR_ENV}={model_dir}")
        elif not path.parent.is_dir():
            log.warning("%s=%s is not a folder; ignoring it", MODEL_DIR_ENV, model_dir)
    path = cache_dir / bundle_name(variant)
    if path.is_file():
        yield ResolvedModel(variant, path, f"found in the cache dir {cache_dir}")


def installed_models(
    env: Mapping[str, str] | None = None, cache_dir: Path | None = None
) -> dict[str, list[ResolvedModel]]:
    """For each variant, the bundles on disk (unchecked), best first."""
    env = os.environ if env is None else env
    cache_dir = default_cache_dir(env) if cache_dir is None else Path(cache_dir)
    return {v: list(_installed(v, env, cache_dir)) for v in VARIANTS}


def _download_for(
    variant: str, env: Mapping[str, str], cache_dir: Path, progress: Progress | None
) -> ResolvedModel:
    base_url = env.get(MODEL_URL_ENV) or None
    log.info("no %s on disk; downloading it into %s", bundle_name(variant), cache_dir)
    try:
        path = download(variant, cache_dir, progress=progress, base_url=base_url)
    except NetworkError as exc:
        raise ModelError(f"no pose model found and the download failed ({exc}): "
                         f"{_remedy(variant)}") from None
    return ResolvedModel(variant, path, f"downloaded from {model_url(variant, base_url)}")


def _where_looked(variant: str, env: Mapping[str, str], cache_dir: Path) -> str:
    places = [f"{MODEL_DIR_ENV}={env[MODEL_DIR_ENV]}"] if env.get(MODEL_DIR_ENV) else []
    places.append(f"the cache dir {cache_dir}")
    return f"looked for {bundle_name(variant)} in " + " and ".join(places)


def _remedy(variant: str) -> str:
    return (f"run `posturewatch model download {variant}` where there is internet, or "
            f"`posturewatch model install FILE` with a {bundle_name(variant)}, "
            f"or set {MODEL_DIR_ENV} to a folder holding one")


# --- downloading and installing ---------------------------------------------


def download(
    variant: str,
    dest_dir: Path,
    progress: Progress | None = None,
    base_url: str | None = None,
    timeout: float = 30.0,
    check: Check | None = None,
) -> Path:
    """Fetch the bundle into `dest_dir` atomically; returns its path.

    `progress(done_bytes, total_bytes | None)` is called as bytes arrive; a
    last call with done == total means the transfer is complete. With `check`,
    the file replaces a cached one only once `check` accepted it.
    """
    url = model_url(variant, base_url)
    with _atomic_file(Path(dest_dir), bundle_name(variant)) as (out, tmp):
        _fetch(url, out, progress, timeout)
        _flush(out)
        problem = bundle_problem(tmp)
        if problem:
            raise NetworkError(f"the file from {url} is not a pose model bundle: {problem}")
        if check is not None:
            try:
                check(tmp)
            except ModelError as exc:
                raise NetworkError(f"the file from {url} does not work as a pose model: "
                                   f"{exc}") from None
    return Path(dest_dir) / bundle_name(variant)


def install(file: str | os.PathLike, dest_dir: Path, variant: str | None = None,
            check: Check | None = None) -> Path:
    """Check `file` and copy it into `dest_dir` as pose_landmarker_<variant>.task.

    An explicit `variant` wins over the one the file name suggests. With
    `check`, the copy replaces a cached model only once `check` accepted it
    (the copy is what is checked: it is what will be used).
    """
    file = Path(file).expanduser()
    validate_bundle(file)
    variant = variant or guess_variant(file.name)
    if variant is None:
        raise ModelError(f"cannot tell the variant of {file.name} from its name: "
                         f"give --variant {'|'.join(VARIANTS)}")
    _check_variant(variant)
    final = Path(dest_dir) / bundle_name(variant)
    if same_file(file, final):  # installing the cached file onto itself: nothing to copy
        if check is not None:
            check(final)
        return final
    with _atomic_file(Path(dest_dir), bundle_name(variant)) as (out, tmp):
        with file.open("rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
        _flush(out)
        if check is not None:
            try:
                check(tmp)
            except ModelError as exc:
                raise ModelError(f"{file} is not a working pose model, so nothing was "
                                 f"installed: {exc}") from None
    return final


def _flush(out: BinaryIO) -> None:
    try:
        out.flush()
    except OSError as exc:  # a full disk shows here at the latest
        raise OutputError(f"cannot write the model: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _atomic_file(dest_dir: Path, name: str) -> Iterator[tuple[BinaryIO, Path]]:
    """Write `dest_dir/name` through a temp file, so no half-written model is ever seen."""
    final = dest_dir / name
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest_dir)
    except OSError as exc:
        raise OutputError(f"cannot write to the model folder {dest_dir}: "
                          f"{exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out, tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model is no secret
        os.replace(tmp, final)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)  # gone already after a successful replace


def _fetch(url: str, out: BinaryIO, progress: Progress | None, timeout: float) -> None:
    """Stream `url` into `out`; any transfer problem becomes a NetworkError."""
    # Imported here: urllib.request brings ssl, http and email (several MB resident), which
    # the daemon, resolving an installed model and running all day, never needs.
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": f"posturewatch/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = _content_length(response)
            done = _copy(response, out, total, progress)
    except urllib.error.HTTPError as exc:
        raise NetworkError(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise NetworkError(f"cannot reach {url}: {exc.reason}") from None
    except (http.client.HTTPException, OSError) as exc:
        raise NetworkError(f"download from {url} broke off: {exc!r}") from None
    except ValueError as exc:  # e.g. POSTUREWATCH_MODEL_URL without http://
        raise NetworkError(f"cannot download {url}: {exc}") from None
    if total is not None and done != total:
        raise NetworkError(f"download from {url} stopped after {done} of {total} bytes")


def _copy(response: BinaryIO, out: BinaryIO, total: int | None, progress: Progress | None) -> int:
    done = 0
    while chunk := response.read(_CHUNK):
        try:
            out.write(chunk)
        except OSError as exc:  # a full disk is not a network problem
            raise OutputError(f"cannot write the downloaded model: {exc.strerror or exc}") from None
        done += len(chunk)
        if progress:
            progress(done, total)
    if progress and total is None:
        progress(done, done)
    return done


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None
