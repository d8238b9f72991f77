"""``openai:URL#MODEL``: any OpenAI-compatible chat endpoint, over httpx.

Failures it retries, with exponential backoff and full jitter, up to ``max_retries``
times: HTTP 429 (honouring ``Retry-After``), 500/502/503/504, connection errors and
timeouts. Then it raises:

- :class:`~redline.errors.TargetUnreachableError` when the endpoint could not be reached
  or did not answer in time;
- :class:`~redline.errors.TargetHTTPError` for an error status (at once for 4xx other
  than 429, after the retries for the rest);
- :class:`~redline.errors.TargetResponseError` for a body that is not the JSON a chat
  completion should be (not retried: the server answered, just wrongly).

The API key is read from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``) and is never logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from redline.errors import (
    TargetHTTPError,
    TargetResponseError,
    TargetSpecError,
    TargetUnreachableError,
)
from redline.targets.base import target_kind
from redline.types import Completion, FinishReason, GenerateParams, Message, messages_to_dicts

if TYPE_CHECKING:
    import httpx

    from redline.targets.transport import FastSender, StreamedResponse

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class OpenAITarget:
    """A chat-completions endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_retries: int = 4,
        concurrency: int = 8,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._concurrency = concurrency
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._fast: dict[int, FastSender | None] = {}
        self._headers: dict[str, str] = {}

    @property
    def spec(self) -> str:
        """The spec string."""
        return f"openai:{self.base_url}#{self.model}"

    @property
    def fingerprint(self) -> str:
        """Remote models are identified by URL and model name only."""
        return self.spec

    # One client and semaphore per event loop: CLI commands and tests run several loops.
    def _client(self) -> httpx.AsyncClient | None:
        """The loop's httpx client; None when the loop sends through aiohttp instead."""
        import httpx

        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._fast:
            headers = {"Content-Type": "application/json"}
            key = os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            from redline.targets.transport import fast_sender_for

            # Plain http (a local model server, the guard's upstream): aiohttp's client,
            # a fraction of httpx's CPU per request; https and proxies keep httpx. The
            # httpx client is made only where it sends (making one imports httpcore and
            # anyio, about 30 ms of a red-team run's start-up).
            self._headers = headers
            self._fast[loop_id] = fast_sender_for(
                self.base_url, max_connections=self._concurrency, timeout=self.timeout)
            if self._fast[loop_id] is None:
                self._clients[loop_id] = httpx.AsyncClient(
                    headers=headers,
                    timeout=httpx.Timeout(self.timeout),
                    limits=httpx.Limits(max_connections=self._concurrency),
                )
        return self._clients.get(loop_id)

    async def _post(
        self, client: httpx.AsyncClient | None, url: str, payload: Any
    ) -> StreamedResponse:
        """Send the POST (through aiohttp on plain http, see ``redline.targets.transport``)."""
        fast = self._fast.get(id(asyncio.get_running_loop()))
        if fast is None:
            assert client is not None  # made by _client for every loop without a fast sender
            return await client.send(client.build_request("POST", url, json=payload),
                                     stream=True)
        # Encoded as httpx's json= would: compact, UTF-8.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return await fast.post(url, body.encode(), self._headers)

    def _semaphore(self) -> asyncio.Semaphore:
        loop_id = id(asyncio.get_running_loop())
        sem = self._semaphores.get(loop_id)
        if sem is None:
            sem = self._semaphores[loop_id] = asyncio.Semaphore(self._concurrency)
        return sem

    def _payload(
        self, messages: Sequence[Message], params: GenerateParams, *, streaming: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages_to_dicts(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": streaming,
        }
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.stop:
            payload["stop"] = list(params.stop)
        return payload

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            parsed = _parse_retry_after(retry_after)
            if parsed is not None:
                return min(parsed, self.backoff_max)
        # Full jitter: uniform in [0, base * 2^attempt], capped.
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def _send(self, payload: dict[str, Any]) -> StreamedResponse:
        """POST with retries; return an open streaming response with a 2xx status."""
        import httpx

        url = f"{self.base_url}/chat/completions"
        client = self._client()
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            retry_after: str | None = None
            try:
                response = await self._post(client, url, payload)
            except httpx.TimeoutException:
                last_problem = f"no answer within {self.timeout:g} s"
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last_problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                if response.status_code < 400:
                    return response
                body = (await response.aread()).decode("utf-8", "replace")[:300]
                await response.aclose()
                if response.status_code not in RETRY_STATUSES:
                    raise TargetHTTPError(
                        _http_message(self.spec, response.status_code, body, self.api_key_env),
                        response.status_code,
                    )
                last_problem = f"HTTP {response.status_code}"
                retry_after = response.headers.get("retry-after")
                if attempt == self.max_retries:
                    raise TargetHTTPError(
                        f"Target '{self.spec}' answered HTTP {response.status_code} "
                        f"{self.max_retries + 1} times: {body.strip()[:200]}. "
                        "The server is overloaded or failing; try later or lower --concurrency.",
                        response.status_code,
                    )
            if attempt < self.max_retries:
                delay = self._delay(attempt, retry_after)
                log.debug("retrying %s after %s in %.2fs", url, last_problem, delay)
                await asyncio.sleep(delay)
        raise TargetUnreachableError(
            f"Cannot reach target '{self.spec}': {last_problem}, after "
            f"{self.max_retries + 1} tries. Check that the server is running at {self.base_url}."
        )

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """One chat completion."""
        async with self._semaphore():
            response = await self._send(self._payload(messages, params, streaming=False))
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TargetResponseError(
                f"Target '{self.spec}' sent a response that is not a chat completion "
                f"({type(exc).__name__}: {exc}): {raw[:200]!r}. Check that the URL points "
                "at an OpenAI-compatible /v1 endpoint."
            ) from exc
        usage = data.get("usage") or {}
        reason: FinishReason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(
            text=text,
            finish_reason=reason,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            model=data.get("model", self.model),
            raw=data,
        )

    async def stream(
        self, messages: Sequence[Message], params: GenerateParams
    ) -> AsyncIterator[str]:
        """Server-sent events, yielded as text deltas."""
        async with self._semaphore():
            response = await self._send(self._payload(messages, params, streaming=True))
            try:
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                        raise TargetResponseError(
                            f"Target '{self.spec}' sent a malformed stream event: {data[:200]!r}."
                        ) from exc
                    if delta:
                        yield delta
            finally:
                await response.aclose()

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        closers = [c.aclose for c in self._clients.values()]
        closers += [f.aclose for f in self._fast.values() if f is not None]
        self._clients, self._fast = {}, {}
        for close in closers:
            try:
                await close()
            except RuntimeError:  # its event loop is already closed
                pass


def _parse_retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _http_message(spec: str, status: int, body: str, key_env: str) -> str:
    hint = {
        401: f"Check the API key in the environment variable {key_env}.",
        403: f"The key in {key_env} is not allowed to use this model.",
        404: "Check the URL (it should end in /v1) and the model name after '#'.",
    }.get(status, "Check the request parameters.")
    return f"Target '{spec}' answered HTTP {status}: {body.strip()[:200]}. {hint}"


@target_kind(
    "openai",
    example="openai:http://127.0.0.1:8000/v1#my-model",
    summary="Any OpenAI-compatible chat endpoint (vLLM, llama.cpp, redline serve, ...).",
)
def make_openai(
    rest: str,
    *,
    api_key_env: str = "OPENAI_API_KEY",
    timeout: float = 60.0,
    max_retries: int = 4,
    concurrency: int = 8,
    backoff_base: float = 0.5,
    backoff_max: float = 30.0,
) -> OpenAITarget:
    """Parse ``URL#MODEL``."""
    url, sep, model = rest.partition("#")
    if not sep or not model or not url.startswith(("http://", "https://")):
        raise TargetSpecError(
            f"Target 'openai:{rest}' must be openai:URL#MODEL with an http(s) URL. "
            "Example: openai:http://127.0.0.1:8000/v1#my-model"
        )
    return OpenAITarget(
        url,
        model,
        api_key_env=api_key_env,
        timeout=float(timeout),
        max_retries=int(max_retries),
        concurrency=int(concurrency),
        backoff_base=float(backoff_base),
        backoff_max=float(backoff_max),
    )
