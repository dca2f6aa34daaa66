"""`posturewatch model ...`: which pose model is used, and how to get one.

`model download` is the only command that uses the network (docs/privacy.md);
the others only look for a model on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from ..adapters import models
from ..adapters.files import local_path
from ..errors import NetworkError
from .model_probe import check_in_child

_SPEC_HELP = ("lite, full or heavy, or a path to a .task file "
              f"(default: {models.MODEL_ENV}, else {models.DEFAULT_VARIANT})")
_WHERE = (f"Models are looked for in this order: --model, {models.MODEL_ENV} (a file), "
          f"{models.MODEL_DIR_ENV} (a folder of pose_landmarker_<variant>.task), the user cache "
          f"folder. {models.MODEL_URL_ENV} replaces Google's download server with a folder URL "
          "holding the .task files (a local mirror).")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "model", help="show, download or install the pose model",
        description="The MediaPipe Pose Landmarker model posturewatch runs. " + _WHERE)
    sub = parser.add_subparsers(dest="model_action", metavar="ACTION", required=True)
    path = sub.add_parser("path", help="say which model file will be used and why",
                          description="Say which model file will be used and why. "
                          "Never downloads. " + _WHERE)
    path.add_argument("--model", metavar="SPEC", help=_SPEC_HELP)
    path.add_argument("--json", action="store_true", help="print one JSON object")
    down = sub.add_parser("download", help="download a model into the cache folder",
                          description="Download a model from Google's model storage (or "
                          f"{models.MODEL_URL_ENV}) into the user cache folder; print its path.")
    down.add_argument("variant", nargs="?", choices=models.VARIANTS,
                      default=models.DEFAULT_VARIANT,
                      help=f"lite is fastest, heavy most precise (default: {models.DEFAULT_VARIANT})")
    inst = sub.add_parser("install", help="check a .task file and copy it into the cache folder",
                          description="For machines without internet: check that FILE is a pose "
                          "model bundle that MediaPipe loads and runs, then copy it into the user "
                          "cache folder; print its path. A file that fails the check leaves the "
                          "cached model as it was.")
    inst.add_argument("file", metavar="FILE", help="a pose_landmarker_<variant>.task file")
    inst.add_argument("--variant", choices=models.VARIANTS,
                      help="which variant FILE is (default: guessed from its name)")
    lst = sub.add_parser("list", help="show which variants are available and where",
                         description="Show each variant, whether it is on disk, and where.")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    actions = {"path": _run_path, "download": _run_download,
               "install": _run_install, "list": _run_list}
    return actions[args.model_action](args)


def _run_path(args: argparse.Namespace) -> int:
    found = models.resolve_model(args.model, allow_download=False)
    if args.json:
        print(json.dumps({"path": str(found.path), "variant": found.variant,
                          "reason": found.reason}))
    else:
        print(f"pose model: {found.path}")
        print(f"variant:    {found.variant or 'unknown'}")
        print(f"why:        {found.reason}")
    return 0


def _run_download(args: argparse.Namespace) -> int:
    base_url = os.environ.get(models.MODEL_URL_ENV) or None
    progress = DownloadProgress(label=models.bundle_name(args.variant))
    try:
        path = models.download(args.variant, models.default_cache_dir(), progress, base_url,
                               check=check_in_child)
    except NetworkError as exc:
        raise NetworkError(f"{exc} (without internet: fetch the file elsewhere and run "
                           "`posturewatch model install FILE`)") from None
    _note_if_shadowed(args.variant, path)
    print(path)
    return 0


def _run_install(args: argparse.Namespace) -> int:
    file = local_path(args.file, "FILE")
    path = models.install(file, models.default_cache_dir(), args.variant, check=check_in_child)
    _note_if_shadowed(models.guess_variant(path.name), path)
    print(path)
    return 0


def _note_if_shadowed(variant: str, path) -> None:
    """Tell the user when a model found earlier in the search order will win over `path`."""
    found = models.installed_models()[variant]
    if found and found[0].path != path:
        print(f"posturewatch: note: {found[0].path} is used first ({found[0].reason})",
              file=sys.stderr)


def _run_list(args: argparse.Namespace) -> int:
    rows = [_list_row(variant, found) for variant, found in models.installed_models().items()]
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        default = " (default)" if row["default"] else ""
        if row["path"] is None:
            where = f"missing: run `posturewatch model download {row['variant']}`"
        else:
            state = "ok" if row["problem"] is None else f"DAMAGED ({row['problem']})"
            where = f"{state}: {row['path']} ({row['reason']})"
        print(f"{row['variant']:<6}{default:<10} {where}")
    override = os.environ.get(models.MODEL_ENV)
    if override:
        print(f"{models.MODEL_ENV}={override} is used when no variant is asked for")
    return 0


def _list_row(variant: str, found: list[models.ResolvedModel]) -> dict:
    first = found[0] if found else None
    return {
        "variant": variant,
        "default": variant == models.DEFAULT_VARIANT,
        "path": str(first.path) if first else None,
        "reason": first.reason if first else None,
        "problem": models.bundle_problem(first.path) if first else None,
    }


class DownloadProgress:
    """A `progress(done, total)` callback: a live line on a terminal, one final line otherwise."""

    def __init__(self, stream: TextIO | None = None, label: str = "the pose model") -> None:
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.live = _isatty(self.stream)
        self._shown = ""

    def __call__(self, done: int, total: int | None) -> None:
        finished = total is not None and done >= total
        if self.live:
            text = f"\rdownloading {self.label}: {_progress_text(done, total)}"
            if text != self._shown or finished:  # redraw only when the numbers change
                self.stream.write(text + ("\n" if finished else ""))
                self.stream.flush()
                self._shown = text
        elif finished:
            self.stream.write(f"downloaded {self.label} ({done / 1e6:.1f} MB)\n")


def _progress_text(done: int, total: int | None) -> str:
    if not total:
        return f"{done / 1e6:.1f} MB"
    return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB ({100 * done // total}%)"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
