"""`posturewatch autostart enable|disable|status`: start the monitor at login."""

from __future__ import annotations

import argparse

from ..adapters.autostart import autostart_from_env


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "autostart", help="start the monitor when you log in (or stop doing so)",
        description="Register `posturewatch run` with your desktop session: a systemd user "
        "unit where the session runs under systemd, an XDG autostart entry elsewhere, a "
        "LaunchAgent on macOS. Settings come from the config file (`posturewatch config show`).")
    parser.add_argument("action", choices=("enable", "disable", "status"))
    parser.add_argument("--mechanism", choices=("systemd", "xdg"),
                        help="force one mechanism (default: the one your session uses)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    autostart = autostart_from_env()
    if args.action == "enable":
        status = autostart.enable(args.mechanism)
    elif args.action == "disable":
        status = autostart.disable()
    else:
        status = autostart.status()
    print(status)
    return 0
