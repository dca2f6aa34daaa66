"""The command line imports only the named command's module (the daemon keeps what it imports)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from posturewatch.app import cli


@pytest.mark.parametrize("module", list(cli.COMMANDS))
def test_the_table_names_the_commands_each_module_adds(module):
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"posturewatch.app.{module}").add_parser(sub)
    assert set(sub.choices) == set(cli.COMMANDS[module])


@pytest.mark.parametrize("argv, modules", [
    (["run", "--source", "x"], ["daemon.run_cmd"]),
    (["--debug", "-v", "status"], ["daemon.control_cmd"]),
    (["profiles", "list"], ["calibrate"]),
    (["--help"], list(cli.COMMANDS)),
    (["runn"], list(cli.COMMANDS)),  # a typo: argparse lists every command
    ([], list(cli.COMMANDS)),
])
def test_command_modules(argv, modules):
    assert cli.command_modules(argv) == modules


def test_run_does_not_import_the_one_shot_commands_or_the_network():
    code = ("import sys; from posturewatch.app import cli; cli.build_parser(['run'], False); "
            "print(' '.join(m for m in ('posturewatch.app.batch', 'posturewatch.app.evaluate', "
            "'posturewatch.app.report_cmd', 'ssl', 'urllib.request') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
