"""The redline command as a user runs it: help, version, targets, chat, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import redline


def redline_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.mark.parametrize("args", [("version",), ("--version",), ("--version", "redteam")])
def test_version(args: tuple[str, ...]) -> None:
    result = redline_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"redline {redline.__version__}"


def test_help_lists_commands_and_every_command_has_help() -> None:
    result = redline_cli("--help")
    assert result.returncode == 0
    for command in ("version", "targets", "chat", "list"):
        assert command in result.stdout
        sub = redline_cli(command, "--help")
        assert sub.returncode == 0 and "Usage" in sub.stdout, command


def test_targets_lists_kinds_with_examples() -> None:
    out = redline_cli("targets").stdout
    for example in (
        "hf:/models/my-checkpoint",
        "openai:http://127.0.0.1:8000/v1#my-model",
        "python:my_package.my_module:answer",
        "mock:hello there",
    ):
        assert example in out


def test_chat_one_shot_and_interactive() -> None:
    one = redline_cli("chat", "mock", "--prompt", "hello there")
    assert one.returncode == 0 and one.stdout.strip() == "mock reply to: hello there"
    many = redline_cli("chat", "mock", stdin="first\nsecond\n\n")
    assert many.returncode == 0
    assert many.stdout.splitlines() == ["mock reply to: first", "mock reply to: second"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["chat", "hff:x", "-p", "a"], "Unknown target 'hff:x'. Known kinds:"),
        (["chat", "mock", "-o", "nope", "-p", "a"], "must look like key=value"),
        (["chat", "mock", "-o", "foo=1", "-p", "a"], "does not take option(s) foo"),
        (["chat", "hf:/does/not/exist", "-p", "a"], "does not exist"),
        (
            ["chat", "openai:http://127.0.0.1:9/v1#m", "-o", "max_retries=0", "-p", "a"],
            "Cannot reach target",
        ),
    ],
)
def test_bad_input_gives_one_clear_line_and_nonzero_exit(args: list[str], expected: str) -> None:
    result = redline_cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = redline_cli("--debug", "chat", "hff:x", "-p", "a")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_missing_extra_error_names_pip_line(tmp_path: Path) -> None:
    # A stub 'torch' that cannot be found: importlib sees no spec for it.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import importlib.util as u\n_real = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'torch' else _real(n, *a)\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = redline_cli("chat", "hf:/x", "-p", "a", env=env)
    assert result.returncode == 3
    assert "pip install 'redline[hf]'" in result.stderr


@pytest.mark.parametrize("args", [["chat"], ["no-such-command"], ["chat", "mock", "--bogus"]])
def test_usage_errors_are_short_and_without_traceback(args: list[str]) -> None:
    result = redline_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr and "--help" in result.stderr
