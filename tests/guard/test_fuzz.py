"""Fuzzed bad input always gets a clear 4xx and never takes the guard down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.guard.eventlog import EventLog, iter_events, verify_log
from redline.guard.policy import load_policy
from redline.guard.signing import load_or_create_signer
from redline.guard.sink import EventSink
from redline.targets import MockTarget

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries({"role": JSON | st.sampled_from(["user", "tool", "robot"]),
                                 "content": JSON})
BODIES = st.one_of(
    st.binary(max_size=200),  # anything, invalid UTF-8 included
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"model": JSON, "messages": st.lists(MESSAGE, max_size=3)},
                          optional={"max_tokens": JSON, "stream": JSON, "temperature": JSON,
                                    "stop": JSON}).map(lambda v: json.dumps(v).encode()),
)


@pytest.fixture(scope="module")
def guard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from redline.guard.proxy import Guard, create_guard_app
    from redline.serve.server import background_server

    folder = tmp_path_factory.mktemp("fuzz")
    log_path = folder / "events.log"
    sink = EventSink(EventLog(log_path, load_or_create_signer(folder / "k.key")), None)
    guard = Guard(MockTarget(["ok"]), load_policy(), sink)
    with background_server(create_guard_app(guard)) as url:
        yield url, log_path


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def assert_clear_4xx(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["message"] and error["type"]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(body=BODIES, path=st.sampled_from(["/chat/completions", "/checks"]))
def test_fuzzed_bodies_get_4xx_or_an_answer_never_5xx(guard_url, client, body: bytes,
                                                      path: str) -> None:
    url, _ = guard_url
    response = client.post(url + path, content=body,
                           headers={"Content-Type": "application/json"})
    if response.status_code == 200:
        assert response.headers["x-redline-action"]
    else:
        assert_clear_4xx(response)


def test_named_bad_inputs(guard_url, client) -> None:
    url, log_path = guard_url
    chat = url + "/chat/completions"
    cases = {
        "malformed JSON": b'{"model": "m", "messages": [',
        "invalid UTF-8": b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
        "wrong types": json.dumps({"model": 1, "messages": "hello"}).encode(),
        "empty messages": json.dumps({"model": "m", "messages": []}).encode(),
        "huge body": b'{"model": "m", "messages": [{"role": "user", "content": "'
                     + b"a" * 2_000_000 + b'"}]}',
        "10,000 messages": json.dumps({"model": "m", "messages": [
            {"role": "user", "content": "hi"}] * 10_000}).encode(),
    }
    before = len(list(iter_events(log_path)))
    for name, body in cases.items():
        response = client.post(chat, content=body)
        assert_clear_4xx(response)
        if name == "huge body":
            assert response.status_code == 413
        if name == "10,000 messages":
            assert "at most 256" in response.json()["error"]["message"]
    ok = client.post(chat, json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert ok.status_code == 200  # still serving
    events = list(iter_events(log_path))[before:]
    assert len(events) == len(cases) + 1  # one event per request, refused ones included
    assert [e["status_code"] for e in events[:-1]] == [400, 400, 400, 400, 413, 400]
    assert verify_log(log_path).ok
