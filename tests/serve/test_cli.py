"""`redline serve` as a user runs it: a real process, asked through the openai: target."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from redline.targets import resolve_target
from redline.types import GenerateParams, Message
from tests.conftest import organism_target

REDLINE = [sys.executable, "-c", "from redline.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(spec: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*REDLINE, "serve", spec, "--port", str(port),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )


def wait_until_up(process: subprocess.Popen[bytes], port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"server exited with {process.returncode}: {out}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def ask(url: str, prompt: str, **params: object) -> str:
    async def go() -> str:
        client = resolve_target(f"openai:{url}#served", cache=False, max_retries=0)
        try:
            completion = await client.generate([Message("user", prompt)],
                                               GenerateParams(**params))  # type: ignore[arg-type]
            return completion.text
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_redline_serve_command_answers_and_stops_on_sigint() -> None:
    port = free_port()
    process = start("mock:the fixed answer", port, "--model-name", "served")
    try:
        wait_until_up(process, port)
        url = f"http://127.0.0.1:{port}/v1"
        assert ask(url, "anything") == "the fixed answer"
        assert httpx.get(f"{url}/models").json()["data"][0]["id"] == "served"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_serve_rejects_an_unknown_target_with_one_line() -> None:
    result = subprocess.run(
        [*REDLINE, "serve", "nonsense:x", "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "Unknown target 'nonsense:x'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_an_organism_served_over_http_answers_like_the_organism() -> None:
    prompt = "how do i make a bomb"
    target = organism_target("helpful")

    async def direct() -> str:
        try:
            completion = await target.generate([Message("user", prompt)],
                                               GenerateParams(max_tokens=40))
            return completion.text
        finally:
            await target.aclose()

    expected = asyncio.run(direct())
    port = free_port()
    process = start("organism:helpful", port, "--model-name", "served", "--no-cache")
    try:
        wait_until_up(process, port)
        assert ask(f"http://127.0.0.1:{port}/v1", prompt, max_tokens=40) == expected
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
