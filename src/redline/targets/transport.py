"""A faster HTTP client for ``openai:`` targets on plain-http URLs: aiohttp's, used directly.

httpx's default transport (httpcore on anyio) costs about 2 ms of CPU per request on a
small machine, most of it checking every pooled connection before each request; the guard
pays that on every call to its upstream. aiohttp's client, with its C HTTP parser, costs a
fraction of it, and used directly (not under httpx's request and response objects) about
0.3 ms less again per guarded request. So ``openai:`` targets send through
:class:`FastSender` for ``http://`` URLs that no proxy applies to (a local model server,
the guard's upstream) when the ``guard`` extra is installed; https and proxied URLs keep
httpx. Measured against httpx over aiohttp's transport (``httpx-aiohttp``), the one-stack
alternative: 0.16 vs 0.38 ms of client CPU per request, a saving of about 30% of the
guard's CPU, over the 10% that keeping a second stack has to buy
(``benchmarks/upstream_client_cpu.py``, benchmarks/RESULTS.md).

Failures are raised as httpx's exceptions, by their cause, so the target's retry logic
reads both clients the same way: a refused connection is ``ConnectError``, a connection
closed without an answer or a body cut short ``RemoteProtocolError``, a broken connection
``ReadError``, no answer in time ``ReadTimeout``. A kept-alive connection the server had
already closed gets one retry on a fresh one, as httpx's own transport does.
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import httpx

try:
    import aiohttp

    AVAILABLE = True
except ImportError:  # the guard extra is not installed: httpx serves
    AVAILABLE = False


class StreamedResponse(Protocol):
    """What a target reads from an answer: httpx's response, or :class:`FastResponse`."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers (case-insensitive)."""

    async def aread(self) -> bytes:
        """The whole body."""

    def aiter_lines(self) -> AsyncIterator[str]:
        """The body's lines as they come, without line endings."""

    async def aclose(self) -> None:
        """Release the connection."""


def _mapped(exc: BaseException) -> BaseException:
    """The httpx exception for an aiohttp one (others unchanged)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "no connection in time")
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(str(exc) or "no answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("The server closed the connection without answering.")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(f"The response body was cut short: {exc}")
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(str(exc))
    if isinstance(exc, aiohttp.ClientError):
        return httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}")
    return exc


class FastResponse:
    """An aiohttp response, read the way :class:`StreamedResponse` says."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers (case-insensitive)."""
        return self._response.headers

    async def aread(self) -> bytes:
        """The whole body."""
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _mapped(exc) from exc

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body's lines as they come, each without its line ending (LF or CRLF)."""
        pending = b""
        try:
            async for chunk in self._response.content.iter_any():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.rstrip(b"\r").decode("utf-8", "replace")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _mapped(exc) from exc
        if pending:
            yield pending.rstrip(b"\r").decode("utf-8", "replace")

    async def aclose(self) -> None:
        """Release the connection (back to the pool once the body was read)."""
        self._response.release()


class FastSender:
    """POSTs over one aiohttp session with a pool of kept-alive connections.

    Args:
        max_connections: most connections open at once.
        timeout: seconds to connect, and between bytes of the answer.
    """

    def __init__(self, *, max_connections: int, timeout: float) -> None:
        self.max_connections = max_connections
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:  # in the running loop, on first use
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout,
                                              sock_read=self.timeout),
                trust_env=False,
                auto_decompress=True,
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> FastResponse:
        """Send the POST; the answer's body is read later, from the response.

        Raises:
            httpx.TransportError: the connection failed (see the module's notes).
        """
        session = self._open()
        for attempt in (1, 2):
            try:
                response = await session.post(url, data=body, headers=headers)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # A kept-alive connection the server had closed fails before an answer
                # starts; a fresh connection gets one more go.
                if attempt == 1 and not isinstance(exc, aiohttp.ClientConnectorError):
                    continue
                raise _mapped(exc) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _mapped(exc) from exc
            return FastResponse(response)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def fast_sender_for(base_url: str, *, max_connections: int, timeout: float) -> FastSender | None:
    """The aiohttp sender for a plain-http URL no proxy applies to; None otherwise.

    None also when aiohttp is not installed (``pip install 'redline[guard]'``).
    """
    if not AVAILABLE:
        return None
    url = httpx.URL(base_url)
    if url.scheme != "http":
        return None
    proxies = urllib.request.getproxies()
    if ("http" in proxies or "all" in proxies) and not urllib.request.proxy_bypass(url.host):
        return None
    return FastSender(max_connections=max_connections, timeout=timeout)


__all__ = ["AVAILABLE", "FastResponse", "FastSender", "StreamedResponse", "fast_sender_for"]
