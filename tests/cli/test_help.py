"""Every command and subcommand of the command line answers --help with exit status 0 and ends
with at least one example of itself."""

from __future__ import annotations

import argparse

import pytest

from katsuo.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(build_parser()))


def test_every_command_is_listed():
    # The walk is what the next test relies on: it must find the nested commands too.
    assert {("serve",), ("user", "create"), ("slices", "rebuild"), ("geo", "install")} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "katsuo")
def test_help_exits_0_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    examples = text.split("examples:\n", 1)[1]
    assert f"katsuo {' '.join(command)}".rstrip() in examples
