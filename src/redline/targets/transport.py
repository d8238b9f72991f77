"""A faster HTTP transport for httpx on plain-http URLs: aiohttp's client, via httpx-aiohttp.

httpx's default transport (httpcore on anyio) costs about 2 ms of CPU per request on a
small machine, most of it checking every pooled connection before each request; the guard
pays that on every call to its upstream. aiohttp's client, with its C HTTP parser, costs
about 0.35 ms (same machine, concurrency 16, keep-alive). So ``openai:`` targets use it
for ``http://`` URLs that no proxy applies to (a local model server, the guard's
upstream) when the ``guard`` extra is installed; https and proxied URLs keep httpx's own.

httpx-aiohttp maps aiohttp's errors to httpx's, but reads a refused or dropped connection
as a connect *timeout*; :class:`FastTransport` maps those by their cause, so callers see
``ConnectError``, ``RemoteProtocolError`` or ``ReadError`` exactly as with httpx's own
transport.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import httpx

try:
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    AVAILABLE = True
except ImportError:  # the guard extra is not installed: httpx's own transport serves
    AVAILABLE = False


_STALE: tuple[type[BaseException], ...] = ()
if AVAILABLE:
    _STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


def _remapped(exc: httpx.TransportError) -> httpx.TransportError:
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(cause))
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("The server closed the connection without answering.")
    if isinstance(cause, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(f"The response body was cut short: {cause}")
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.ReadError(str(cause))
    return exc


if AVAILABLE:

    class FastTransport(AiohttpTransport):
        """httpx-aiohttp's transport with connection errors mapped by their cause."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            """Send one request; its body streams from aiohttp, errors mapped to httpx's."""
            for attempt in (1, 2):
                try:
                    response: httpx.Response = await super().handle_async_request(request)
                except httpx.TransportError as exc:
                    # A kept-alive connection the server had closed fails before an answer
                    # starts; a fresh connection gets one more go, as httpx's own would.
                    if attempt == 1 and isinstance(exc.__cause__, _STALE):
                        continue
                    raise _remapped(exc) from exc.__cause__
                response.stream = _MappedStream(response.stream)
                return response
            raise AssertionError("unreachable")

    class _MappedStream(httpx.AsyncByteStream):
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        async def __aiter__(self) -> Any:
            try:
                async for chunk in self._inner:
                    yield chunk
            except httpx.TransportError as exc:
                raise _remapped(exc) from exc.__cause__

        async def aclose(self) -> None:
            await self._inner.aclose()


def fast_transport_for(base_url: str, *, max_connections: int) -> httpx.AsyncBaseTransport | None:
    """The aiohttp transport for a plain-http URL no proxy applies to; None otherwise.

    None also when httpx-aiohttp is not installed (``pip install 'redline[guard]'``).
    """
    if not AVAILABLE:
        return None
    url = httpx.URL(base_url)
    if url.scheme != "http":
        return None
    proxies = urllib.request.getproxies()
    if ("http" in proxies or "all" in proxies) and not urllib.request.proxy_bypass(url.host):
        return None
    return FastTransport(
        limits=httpx.Limits(max_connections=max_connections), trust_env=False
    )
