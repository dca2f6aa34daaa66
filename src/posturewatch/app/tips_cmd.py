"""`posturewatch tips`: the back-care guidance posturewatch is built on, in plain words."""

from __future__ import annotations

import argparse

from ..core.tips import guide_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tips", help="back care at the desk: sitting well, moving, stretches, when to see a doctor",
        description="The guidance behind posturewatch's reminders, within common ergonomics and "
        "back-care advice. It is not a diagnosis.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(guide_text(), end="")
    return 0
