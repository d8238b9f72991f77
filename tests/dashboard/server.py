"""``redline dashboard`` started for real, as a user starts it, on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium_ready() -> bool:
    """Debian's chromium and the playwright package are both here."""
    import importlib.util

    return Path(CHROMIUM).is_file() and importlib.util.find_spec("playwright") is not None


@contextmanager
def running_dashboard(db_url: str, folder: Path, *extra: str) -> Iterator[str]:
    """The base URL of a dashboard subprocess, stopped on exit."""
    command = [sys.executable, "-m", "redline", "dashboard", "--db", db_url, "--dir",
               str(folder), "--port", "0", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            process.kill()
            raise RuntimeError(f"the dashboard did not start: {line} {process.stderr.read()}")
        base = line.rstrip("/")
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/static/style.css", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
