"""`posturewatch config show|path|template`: the effective settings and where each came from."""

from __future__ import annotations

import argparse

from ..adapters import config as config_file
from ..adapters import strict_json
from ..core.settings import HELP, as_dict


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config", help="show the effective settings and where each came from",
        description=f"Settings live in {config_file.FILE_NAME} in your config folder "
        "(`posturewatch config path`); command-line flags of `run`/`start` override them.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print every setting, its value and its origin")
    show.add_argument("--json", action="store_true", help="one JSON document")
    show.set_defaults(run=run_show)
    sub.add_parser("path", help="print where the config file is").set_defaults(run=run_path)
    sub.add_parser("template", help="print a commented config file with every default"
                   ).set_defaults(run=run_template)


def run_show(args: argparse.Namespace) -> int:
    effective = config_file.load()
    values = as_dict(effective.settings)
    if args.json:
        print(strict_json.dumps({"file": str(effective.path), "exists": effective.path.exists(),
                          "settings": {k: {"value": v, "from": effective.origins[k]}
                                       for k, v in values.items()}}, indent=2))
        return 0
    state = "" if effective.path.exists() else " (not present: all defaults)"
    print(f"# config file: {effective.path}{state}")
    width = max(map(len, values))
    for key, value in values.items():
        print(f"{key:<{width}} = {config_file.toml_value(value):<10} "
              f"# {effective.origins[key]}: {HELP[key]}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    print(config_file.config_path())
    return 0


def run_template(args: argparse.Namespace) -> int:
    print(config_file.template(), end="")
    return 0
