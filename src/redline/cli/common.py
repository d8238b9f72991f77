"""Pieces every CLI command shares: consoles, option parsing, running coroutines."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from rich.console import Console

from redline.errors import ConfigError

T = TypeVar("T")

# Output to a file or a pipe is never wrapped: `redline policy show > my.yaml` must be YAML.
# Tables get room to be read in a file (COLUMNS still wins when set).
console = Console(soft_wrap=not sys.stdout.isatty(),
                  width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err_console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())


def print_raw(text: str) -> None:
    """Write ``text`` to stdout exactly (no markup, no wrapping): for YAML, JSON and files."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    """``["timeout=30", "device=cpu"]`` → ``{"timeout": "30", "device": "cpu"}``."""
    options: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"Option '{pair}' must look like key=value, e.g. -o timeout=30.")
        options[key.strip().replace("-", "_")] = value.strip()
    return options


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous CLI code."""
    return asyncio.run(coro)
