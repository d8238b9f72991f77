from __future__ import annotations

import pytest

from redline.serve.app import APIError, parse_chat_request
from redline.types import GenerateParams, Message


def test_request_maps_to_redline_messages_and_params() -> None:
    request = parse_chat_request(
        b'{"model": "m", "messages": ['
        b'{"role": "developer", "content": "be brief"},'
        b'{"role": "user", "content": [{"type": "text", "text": "hel"},'
        b' {"type": "text", "text": "lo"}]}'
        b'], "max_tokens": 7, "top_p": 0.5, "seed": 3, "stop": "END", "logprobs": true}'
    )
    assert request.to_messages() == (Message("system", "be brief"), Message("user", "hello"))
    assert request.to_params() == GenerateParams(max_tokens=7, top_p=0.5, seed=3, stop=("END",))
    # Unused OpenAI fields are kept for proxies that forward them.
    assert request.model_extra == {"logprobs": True}


def test_absent_temperature_means_greedy_and_max_completion_tokens_wins() -> None:
    request = parse_chat_request(
        b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 9, '
        b'"max_completion_tokens": 4}'
    )
    params = request.to_params(default_max_tokens=50)
    assert params.temperature == 0.0 and params.deterministic
    assert params.max_tokens == 4


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"messages": [{"role": "user", "content": 5}]}', "messages.0.content"),
        (b'{"messages": "hello"}', "messages"),
        (b'{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', "temperature"),
        (b'{"messages": [{"role": "user", "content": "x"}], "temperature": -1}', "temperature"),
        (b'{"messages": [{"role": "user", "content": "x"}], "n": 3}', "n"),
        (b'{"messages": [{"role": "user", "content": "x"}], "stop": ["a","b","c","d","e"]}',
         "stop"),
        (b'{"messages": [{"role": "tool", "content": "x"}]}', "messages.0.role"),
        (b'{"messages": []}', "messages"),
        (b'{"model": "m"}', "messages"),
    ],
)
def test_bad_requests_are_400_naming_the_field(body: bytes, param: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_chat_request(body)
    assert caught.value.status_code == 400
    assert caught.value.body.error.param is not None
    assert caught.value.body.error.param.startswith(param)
    assert caught.value.body.error.type == "invalid_request_error"


@pytest.mark.parametrize("body", [b"{oops", b"[1, 2]", b"\xff\xfe", b""])
def test_non_object_bodies_are_400(body: bytes) -> None:
    with pytest.raises(APIError) as caught:
        parse_chat_request(body)
    assert caught.value.status_code == 400
    assert "JSON" in caught.value.body.error.message


def test_max_tokens_over_the_limit_is_refused() -> None:
    with pytest.raises(APIError) as caught:
        parse_chat_request(
            b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 100}',
            max_tokens_limit=50,
        )
    assert caught.value.body.error.param == "max_tokens"
