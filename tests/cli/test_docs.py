"""Every command and option is documented: help text, and a man page entry."""

from __future__ import annotations

import importlib
import shutil
import subprocess

import click
import pytest
from helpers import ROOT, run_sseq

from sseq.cli import COMMANDS

MAN = ROOT / "man"


def man_text(name: str) -> str:
    return (MAN / f"{name}.1").read_text().replace("\\-", "-")


def options_of(command: click.Command):
    for param in command.params:
        if isinstance(param, click.Option):
            yield param


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_has_help_and_a_man_page_entry(name):
    command = importlib.import_module(f"sseq.commands.{name}").command
    assert command.help, f"{name} has no help text"
    page = man_text(f"sseq-{name}")
    for option in options_of(command):
        assert option.help, f"{name} {option.opts} has no help text"
        for flag in option.opts + option.secondary_opts:
            assert flag in page, f"{flag} of sseq {name} is missing from man/sseq-{name}.1"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_main_page_lists_every_command_and_help_runs(name):
    assert f".B {name}\n" in (MAN / "sseq.1").read_text()
    result = run_sseq(name, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"Usage: sseq {name}".encode())


def test_man_pages_are_clean_groff():
    groff = shutil.which("groff")
    assert groff, "groff is missing: make test installs it (Debian groff-base)"
    pages = sorted(str(p) for p in MAN.glob("*.1"))
    assert len(pages) == 1 + len(COMMANDS)
    result = subprocess.run([groff, "-man", "-ww", "-z", *pages], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""


def test_top_level_help_lists_commands_without_importing_them():
    result = run_sseq("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"  {name} ".encode() in result.stdout
