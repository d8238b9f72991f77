"""The openai: target against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from redline.errors import (
    TargetHTTPError,
    TargetResponseError,
    TargetSpecError,
    TargetUnreachableError,
)
from redline.targets import resolve_target, stream
from redline.targets.openai import OpenAITarget
from redline.types import GenerateParams, Message

from .openai_server import Behaviour, ScriptedServer

HELLO = [Message("user", "hello")]
PARAMS = GenerateParams(max_tokens=16)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.close()


def make(server: ScriptedServer, **options: object) -> OpenAITarget:
    options.setdefault("backoff_base", 0.01)
    target = resolve_target(f"openai:{server.url}#test-model", cache=False, **options)
    assert isinstance(target, OpenAITarget)
    return target


async def test_success_sends_openai_payload_and_parses_usage(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_TEST_KEY", "sk-secret")
    target = make(server, api_key_env="MY_TEST_KEY")
    completion = await target.generate(HELLO, PARAMS.with_(seed=3, stop=("\n",)))
    await target.aclose()
    assert completion.text == "hello from the server"
    assert (completion.prompt_tokens, completion.completion_tokens) == (3, 4)
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-secret"
    assert request["body"]["model"] == "test-model"
    assert request["body"]["messages"] == [{"role": "user", "content": "hello"}]
    assert request["body"]["seed"] == 3 and request["body"]["stop"] == ["\n"]


async def test_streaming_yields_pieces_in_order(server: ScriptedServer) -> None:
    server.script = [Behaviour("stream", pieces=("one", " two", " three"))]
    target = make(server)
    pieces = [p async for p in stream(target, HELLO, PARAMS)]
    await target.aclose()
    assert pieces == ["one", " two", " three"]
    assert server.requests[0]["body"]["stream"] is True


async def test_429_with_retry_after_is_honoured_then_succeeds(server: ScriptedServer) -> None:
    server.script = [
        Behaviour("status", status=429, headers={"Retry-After": "0.3"}),
        Behaviour("ok"),
    ]
    target = make(server)
    completion = await target.generate(HELLO, PARAMS)
    await target.aclose()
    assert completion.text == "hello from the server"
    assert len(server.requests) == 2
    waited = server.requests[1]["time"] - server.requests[0]["time"]
    assert waited >= 0.28, f"retried after {waited:.3f}s, before Retry-After"


async def test_500_is_retried_then_succeeds(server: ScriptedServer) -> None:
    server.script = [
        Behaviour("status", status=500),
        Behaviour("status", status=503),
        Behaviour("ok"),
    ]
    target = make(server)
    assert (await target.generate(HELLO, PARAMS)).text == "hello from the server"
    await target.aclose()
    assert len(server.requests) == 3


async def test_persistent_500_raises_http_error_after_all_retries(server: ScriptedServer) -> None:
    server.script = [Behaviour("status", status=500)]
    target = make(server, max_retries=2)
    with pytest.raises(TargetHTTPError) as info:
        await target.generate(HELLO, PARAMS)
    await target.aclose()
    assert info.value.status_code == 500
    assert len(server.requests) == 3
    assert "3 times" in str(info.value)


async def test_400_is_not_retried(server: ScriptedServer) -> None:
    server.script = [Behaviour("status", status=401)]
    target = make(server)
    with pytest.raises(TargetHTTPError, match="API key"):
        await target.generate(HELLO, PARAMS)
    await target.aclose()
    assert len(server.requests) == 1


async def test_timeout_is_retried_then_raises_unreachable(server: ScriptedServer) -> None:
    server.script = [Behaviour("sleep", seconds=1.0)]
    target = make(server, timeout=0.2, max_retries=1)
    started = time.monotonic()
    with pytest.raises(TargetUnreachableError, match="no answer within 0.2 s"):
        await target.generate(HELLO, PARAMS)
    await target.aclose()
    assert len(server.requests) == 2
    assert time.monotonic() - started < 3


async def test_timeout_then_success(server: ScriptedServer) -> None:
    server.script = [Behaviour("sleep", seconds=1.0), Behaviour("ok", text="late but fine")]
    target = make(server, timeout=0.3)
    assert (await target.generate(HELLO, PARAMS)).text == "late but fine"
    await target.aclose()


async def test_dropped_connection_is_retried(server: ScriptedServer) -> None:
    server.script = [Behaviour("drop"), Behaviour("ok")]
    target = make(server)
    assert (await target.generate(HELLO, PARAMS)).text == "hello from the server"
    await target.aclose()


async def test_connection_refused_raises_unreachable() -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = resolve_target(
        f"openai:http://127.0.0.1:{port}/v1#m", cache=False, max_retries=2, backoff_base=0.01
    )
    with pytest.raises(TargetUnreachableError, match="Check that the server is running"):
        await target.generate(HELLO, PARAMS)
    await target.aclose()


async def test_malformed_json_raises_response_error_without_retry(server: ScriptedServer) -> None:
    server.script = [Behaviour("malformed")]
    target = make(server)
    with pytest.raises(TargetResponseError, match="not a chat completion"):
        await target.generate(HELLO, PARAMS)
    await target.aclose()
    assert len(server.requests) == 1


async def test_concurrency_limit_is_respected(server: ScriptedServer) -> None:
    import asyncio

    server.script = [Behaviour("sleep", seconds=0.2)]
    target = make(server, concurrency=2)
    started = time.monotonic()
    await asyncio.gather(*(target.generate(HELLO, PARAMS) for _ in range(4)))
    await target.aclose()
    # Four 0.2 s requests two at a time take two rounds.
    assert time.monotonic() - started >= 0.38


async def test_cached_target_answers_repeat_without_a_request(server: ScriptedServer) -> None:
    target = resolve_target(f"openai:{server.url}#test-model")
    first = await target.generate(HELLO, PARAMS)
    second = await target.generate(HELLO, PARAMS)
    sampled = GenerateParams(temperature=0.7)
    await target.generate(HELLO, sampled)
    await target.generate(HELLO, sampled)
    await target.aclose()
    assert first.text == second.text and second.cached and not first.cached
    assert len(server.requests) == 3  # one cached greedy, two unseeded samples


@pytest.mark.parametrize("spec", ["openai:127.0.0.1:8000#m", "openai:http://x/v1", "openai:"])
def test_bad_openai_specs_say_how_to_write_one(spec: str) -> None:
    with pytest.raises(TargetSpecError, match="Example: openai:http://127.0.0.1:8000/v1#my-model"):
        resolve_target(spec)
