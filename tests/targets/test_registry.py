"""Target specs, options, missing extras, mock and python targets, and the response cache."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from redline.errors import ConfigError, MissingExtraError, TargetResponseError, TargetSpecError
from redline.targets import MockTarget, generate_many, resolve_target, stream, target_kinds
from redline.targets.cache import CachedTarget, ResponseCache
from redline.types import Completion, GenerateParams, Message

HI = [Message("user", "hi")]
GREEDY = GenerateParams(max_tokens=50)


def test_every_kind_has_an_example_that_parses_to_itself() -> None:
    from redline.targets import parse_spec

    kinds = target_kinds()
    assert {"mock", "hf", "openai", "python"} <= {k.name for k in kinds}
    for kind in kinds:
        assert parse_spec(kind.example)[0] is kind
        assert kind.summary


def test_unknown_kind_lists_known_kinds_and_examples() -> None:
    with pytest.raises(TargetSpecError) as info:
        resolve_target("hff:x")
    message = str(info.value)
    assert "Unknown target 'hff:x'" in message
    assert "Known kinds:" in message and "hf:/models/my-checkpoint" in message
    assert "\n" not in message


def test_kind_without_rest_says_what_to_add() -> None:
    with pytest.raises(TargetSpecError, match="Example: hf:/models/my-checkpoint"):
        resolve_target("hf")


def test_unknown_option_names_the_accepted_ones() -> None:
    with pytest.raises(ConfigError, match="It takes: device, batch_size"):
        resolve_target("hf:/x", bogus="1")


def test_missing_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(MissingExtraError, match=r"pip install 'redline\[hf\]'"):
        resolve_target("hf:/anything")


async def test_mock_echoes_scripts_truncates_and_streams() -> None:
    echo = resolve_target("mock")
    assert (await echo.generate(HI, GREEDY)).text == "mock reply to: hi"
    fixed = resolve_target("mock:always this")
    assert (await fixed.generate(HI, GREEDY)).text == "always this"
    scripted = MockTarget(["one two three four", "b"])
    short = await scripted.generate(HI, GenerateParams(max_tokens=2))
    assert (short.text, short.finish_reason) == ("one two", "length")
    assert (await scripted.generate(HI, GREEDY)).text == "b"
    assert [p async for p in stream(fixed, HI, GREEDY)] == ["always", " this"]
    assert len(scripted.calls) == 2


def _install_module(monkeypatch: pytest.MonkeyPatch, **functions: object) -> str:
    module = types.ModuleType("redline_test_funcs")
    for name, fn in functions.items():
        setattr(module, name, fn)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


async def test_python_target_calls_sync_and_async_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def shout(messages: list[dict[str, str]]) -> str:
        return messages[-1]["content"].upper()

    async def with_params(
        messages: list[dict[str, str]], params: GenerateParams
    ) -> dict[str, object]:
        return {"choices": [{"message": {"content": f"max={params.max_tokens}"}}]}

    def bad(messages: list[dict[str, str]]) -> int:
        return 42

    name = _install_module(monkeypatch, shout=shout, with_params=with_params, bad=bad)
    assert (
        await resolve_target(f"python:{name}:shout", cache=False).generate(HI, GREEDY)
    ).text == "HI"
    target = resolve_target(f"python:{name}:with_params", cache=False)
    assert (await target.generate(HI, GREEDY)).text == "max=50"
    with pytest.raises(TargetResponseError, match="must return a str"):
        await resolve_target(f"python:{name}:bad", cache=False).generate(HI, GREEDY)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("python:no_such_module_xyz:f", "Cannot import module"),
        ("python:os:no_such_function", "has no attribute"),
        ("python:os", "must name a module and a function"),
    ],
)
def test_bad_python_specs(spec: str, message: str) -> None:
    with pytest.raises(TargetSpecError, match=message):
        resolve_target(spec)


async def test_cache_persists_across_processes_and_skips_unseeded_sampling(tmp_path: Path) -> None:
    calls: list[str] = []

    def count(messages: list[Message]) -> str:
        calls.append(messages[-1].content)
        return f"answer {len(calls)}"

    def cached() -> CachedTarget:
        return CachedTarget(MockTarget(responder=count), ResponseCache(tmp_path / "c.sqlite"))

    first = cached()
    a = await first.generate(HI, GREEDY)
    await first.aclose()
    second = cached()  # a new process would open the same file
    b = await second.generate(HI, GREEDY)
    assert (a.text, b.text, b.cached) == ("answer 1", "answer 1", True)
    seeded = GenerateParams(temperature=1.0, seed=4)
    await second.generate(HI, seeded)
    await second.generate(HI, seeded)
    unseeded = GenerateParams(temperature=1.0)
    await second.generate(HI, unseeded)
    await second.generate(HI, unseeded)
    assert len(calls) == 4  # greedy once, seeded once, unseeded twice
    other = await second.generate([Message("user", "other")], GREEDY)
    assert other.text == "answer 5"


async def test_cached_batch_sends_only_misses(tmp_path: Path) -> None:
    inner = MockTarget()
    target = CachedTarget(inner, ResponseCache(tmp_path / "c.sqlite"))
    convs = [[Message("user", f"q{i}")] for i in range(4)]
    await target.generate(convs[1], GREEDY)
    results = await generate_many(target, convs, GREEDY)
    assert [r.text for r in results] == [f"mock reply to: q{i}" for i in range(4)]
    assert [r.cached for r in results] == [False, True, False, False]
    assert len(inner.calls) == 4


def test_cache_never_stores_errors(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", Completion(text="", finish_reason="error"))
    assert cache.get("k") is None and len(cache) == 0
