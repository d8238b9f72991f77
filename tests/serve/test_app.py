"""The server for real: uvicorn on 127.0.0.1, with redline's own openai: target as the client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import pytest

from redline.errors import TargetHTTPError, TargetResponseError, TargetUnreachableError
from redline.serve import background_server, create_app
from redline.targets import MockTarget, Target, resolve_target
from redline.types import Completion, GenerateParams, Message


def echo(messages: Sequence[Message]) -> str:
    return "you said " + " | ".join(f"{m.role}:{m.content}" for m in messages)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with background_server(create_app(MockTarget(responder=echo), model_name="echo")) as base:
        yield base


def client_for(url: str, model: str = "echo") -> Target:
    return resolve_target(f"openai:{url}#{model}", cache=False, max_retries=0)


async def test_openai_target_round_trip(url: str) -> None:
    client = client_for(url, "any-name-is-accepted")
    try:
        messages = [Message("system", "sys"), Message("user", "hi there")]
        completion = await client.generate(messages, GenerateParams(max_tokens=50))
        assert completion.text == "you said system:sys | user:hi there"
        assert completion.model == "echo"
        assert completion.finish_reason == "stop"
        assert completion.completion_tokens == len(completion.text.split())
        # max_tokens reaches the target: the mock cuts at that many words.
        short = await client.generate(messages, GenerateParams(max_tokens=2))
        assert short.text == "you said" and short.finish_reason == "length"
    finally:
        await client.aclose()


async def test_streaming_gives_the_same_text_in_pieces(url: str) -> None:
    from redline.targets import stream

    client = client_for(url)
    try:
        messages = [Message("user", "one two three")]
        pieces = [p async for p in stream(client, messages, GenerateParams())]
        whole = await client.generate(messages, GenerateParams())
        assert len(pieces) > 1
        assert "".join(pieces) == whole.text
    finally:
        await client.aclose()


def test_stream_wire_format_ends_with_done_and_usage(url: str) -> None:
    body = {"model": "echo", "messages": [{"role": "user", "content": "a b"}], "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{url}/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == "you said user:a b"


def test_models_endpoint(url: str) -> None:
    listing = httpx.get(f"{url}/models").json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["echo"]
    assert httpx.get(f"{url}/models/echo").json()["id"] == "echo"
    missing = httpx.get(f"{url}/models/other")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b'{"messages": [{"role": "wizard", "content": "x"}]}', 400),
        (b'{"messages": []}', 400),
        (b'{"messages": [{"role": "user", "content": ["x"]}]}', 400),
        (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": "many"}', 400),
        (b'"just a string"', 400),
    ],
)
def test_bad_input_is_4xx_in_openai_shape_and_server_lives(
    url: str, content: bytes, status: int
) -> None:
    response = httpx.post(f"{url}/chat/completions", content=content,
                          headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    ok = httpx.post(f"{url}/chat/completions",
                    json={"messages": [{"role": "user", "content": "still up"}]})
    assert ok.status_code == 200


def test_huge_bodies_are_413_whether_declared_or_streamed() -> None:
    app = create_app(MockTarget(), max_body_bytes=10_000)
    big = json.dumps({"messages": [{"role": "user", "content": "x" * 20_000}]}).encode()
    with background_server(app) as base:
        declared = httpx.post(f"{base}/chat/completions", content=big,
                              headers={"content-type": "application/json"})
        assert declared.status_code == 413
        assert declared.json()["error"]["type"] == "request_too_large"

        def chunks() -> Iterator[bytes]:  # no content-length: chunked transfer
            for i in range(0, len(big), 1000):
                yield big[i : i + 1000]

        streamed = httpx.post(f"{base}/chat/completions", content=chunks())
        assert streamed.status_code == 413
        small = httpx.post(f"{base}/chat/completions",
                           json={"messages": [{"role": "user", "content": "x"}]})
        assert small.status_code == 200


def test_unknown_route_and_wrong_method_are_json_errors(url: str) -> None:
    missing = httpx.get(f"{url}/completions")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
    wrong = httpx.get(f"{url}/chat/completions")
    assert wrong.status_code == 405 and "error" in wrong.json()


class FlakyTarget:
    """A target that fails in a chosen way, for the error paths."""

    def __init__(self, failure: BaseException | None = None, delay: float = 0.0,
                 fail_after_pieces: int | None = None) -> None:
        self.failure = failure
        self.delay = delay
        self.fail_after_pieces = fail_after_pieces

    @property
    def spec(self) -> str:
        return "flaky"

    @property
    def fingerprint(self) -> str:
        return "flaky"

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        await asyncio.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        return Completion(text="fine")

    async def stream(self, messages: Sequence[Message], params: GenerateParams
                     ) -> AsyncIterator[str]:
        for i in range(5):
            if self.fail_after_pieces is not None and i == self.fail_after_pieces:
                raise TargetUnreachableError("upstream went away mid-answer")
            await asyncio.sleep(self.delay)
            yield f"p{i} "

    async def aclose(self) -> None:
        pass


CHAT = {"messages": [{"role": "user", "content": "x"}]}


@pytest.mark.parametrize(
    ("failure", "status", "kind"),
    [
        (TargetUnreachableError("Cannot reach upstream: connection refused."), 502,
         "upstream_error"),
        (TargetResponseError("garbled"), 502, "upstream_error"),
        (RuntimeError("bug in a user's python target"), 502, "upstream_error"),
        (TargetHTTPError("upstream timed out", 504), 504, "timeout_error"),
    ],
)
def test_target_errors_are_502_or_504(failure: BaseException, status: int, kind: str) -> None:
    with background_server(create_app(FlakyTarget(failure))) as base:
        response = httpx.post(f"{base}/chat/completions", json=CHAT)
        assert response.status_code == status
        assert response.json()["error"]["type"] == kind


def test_slow_target_is_504_and_the_openai_client_raises() -> None:
    with background_server(create_app(FlakyTarget(delay=2.0), request_timeout=0.2)) as base:
        response = httpx.post(f"{base}/chat/completions", json=CHAT)
        assert response.status_code == 504
        assert "did not answer within 0.2 s" in response.json()["error"]["message"]
        client = client_for(base)

        async def ask() -> None:
            try:
                await client.generate([Message("user", "x")], GenerateParams())
            finally:
                await client.aclose()

        with pytest.raises(TargetHTTPError) as caught:
            asyncio.run(ask())
        assert caught.value.status_code == 504


def test_stream_failing_midway_sends_an_error_event_without_done() -> None:
    with background_server(create_app(FlakyTarget(fail_after_pieces=2))) as base:
        with httpx.stream("POST", f"{base}/chat/completions",
                          json={**CHAT, "stream": True}) as response:
            assert response.status_code == 200
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert "[DONE]" not in events
    assert json.loads(events[-1])["error"]["type"] == "upstream_error"
    assert [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:3]] == [
        "p0 ", "p1 "]


def test_stream_failing_at_once_is_a_502() -> None:
    with background_server(create_app(FlakyTarget(fail_after_pieces=0))) as base:
        response = httpx.post(f"{base}/chat/completions", json={**CHAT, "stream": True})
    assert response.status_code == 502
    assert "went away" in response.json()["error"]["message"]


async def test_concurrent_requests_each_get_their_own_answer(url: str) -> None:
    client = client_for(url)
    try:
        prompts = [f"question {i}" for i in range(40)]
        answers = await asyncio.gather(
            *(client.generate([Message("user", p)], GenerateParams(max_tokens=20)) for p in prompts)
        )
    finally:
        await client.aclose()
    assert [a.text for a in answers] == [f"you said user:{p}" for p in prompts]
