"""A lean HTTP/1.1 transport for httpx: keep-alive connections on asyncio streams.

httpx's default transport (httpcore on anyio) costs about 2 ms of CPU per request on a
small machine, most of it checking every pooled connection for expiry before each
request; for the guard, which sits in front of a model on every call, that was the
largest part of its added latency. This transport speaks plain HTTP/1.1 over
``asyncio.open_connection`` with a LIFO stack of idle connections and costs about a fifth
of that. It handles ``Content-Length``, chunked and close-delimited bodies, honours
httpx's connect and read timeouts, and raises httpx's own exceptions, so callers handle
failures exactly as with the default transport.

It does not do TLS, proxies or HTTP/2: :func:`lean_transport_for` returns it only for
``http://`` URLs that no proxy setting applies to, and None otherwise (keep httpx's own).
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import httpx

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_NO_BODY_STATUSES = frozenset({204, 304})
_MAX_HEADER_BYTES = 1 << 16


class LeanTransport(httpx.AsyncBaseTransport):
    """Plain-HTTP/1.1 keep-alive transport (see the module docstring).

    Args:
        max_idle: most idle connections kept open per host; more are closed when freed.
    """

    def __init__(self, *, max_idle: int = 64) -> None:
        self.max_idle = max_idle
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; the response body streams from the connection."""
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(
                f"The lean transport speaks plain http only, not {url.scheme!r}.")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        address = (url.host, url.port or 80)
        head = _request_head(request)
        body = await request.aread()
        while True:
            reused, connection = self._take(address)
            if connection is None:
                connection = await _connect(address, timeouts.get("connect"))
            try:
                return await self._exchange(connection, address, head + body, timeouts,
                                            request.method.encode("ascii"))
            except _StaleConnection:
                _close(connection)
                if not reused:
                    raise httpx.RemoteProtocolError(
                        "The server closed the connection without answering.",
                        request=request) from None
            except BaseException:
                _close(connection)
                raise

    async def _exchange(
        self,
        connection: _Connection,
        address: tuple[str, int],
        data: bytes,
        timeouts: dict[str, float | None],
        method: bytes,
    ) -> httpx.Response:
        reader, writer = connection
        try:
            writer.write(data)
            async with asyncio.timeout(timeouts.get("read")):
                raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _StaleConnection from exc
            raise httpx.RemoteProtocolError("The server sent a truncated response head.") from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("The response head is too long.") from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("No response within the read timeout.") from exc
        except ConnectionError as exc:
            raise _StaleConnection from exc
        status, reason, headers = _parse_head(raw)
        length: int | None = None
        chunked = False
        keep_alive = True
        for name, value in headers:
            key = name.lower()
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError as exc:
                    raise httpx.RemoteProtocolError(f"Bad Content-Length {value!r}.") from exc
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif key == b"connection":
                keep_alive = b"close" not in value.lower()
        if status in _NO_BODY_STATUSES or 100 <= status < 200 or method == b"HEAD":
            length, chunked = 0, False
        body = _Body(self, connection, address, length=length, chunked=chunked,
                     keep_alive=keep_alive, read_timeout=timeouts.get("read"))
        return httpx.Response(status, headers=headers, stream=body,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason})

    def _take(self, address: tuple[str, int]) -> tuple[bool, _Connection | None]:
        idle = self._idle.get(address)
        while idle:
            connection = idle.pop()
            if not connection[0].at_eof() and not connection[1].is_closing():
                return True, connection
            _close(connection)
        return False, None

    def _give_back(self, address: tuple[str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(address, [])
        if self._closed or len(idle) >= self.max_idle or connection[0].at_eof():
            _close(connection)
        else:
            idle.append(connection)

    async def aclose(self) -> None:
        """Close every idle connection."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                _close(connection)


class _StaleConnection(Exception):
    """A kept-alive connection the server had closed before it answered."""


class _Body(httpx.AsyncByteStream):
    """A response body read off its connection; the connection is reused once it is read."""

    def __init__(
        self,
        transport: LeanTransport,
        connection: _Connection,
        address: tuple[str, int],
        *,
        length: int | None,
        chunked: bool,
        keep_alive: bool,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._address = address
        self._length = length
        self._chunked = chunked
        self._keep_alive = keep_alive and (chunked or length is not None)
        self._timeout = read_timeout
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._connection is None:
            raise httpx.StreamClosed()
        reader = self._connection[0]
        try:
            if self._chunked:
                while True:
                    async with asyncio.timeout(self._timeout):
                        size_line = await reader.readuntil(b"\r\n")
                    size = _chunk_size(size_line)
                    if size == 0:
                        async with asyncio.timeout(self._timeout):
                            while await reader.readuntil(b"\r\n") != b"\r\n":
                                pass  # trailer fields: read and drop
                        break
                    async with asyncio.timeout(self._timeout):
                        data = await reader.readexactly(size + 2)
                    yield data[:-2]
            elif self._length is not None:
                left = self._length
                while left > 0:
                    async with asyncio.timeout(self._timeout):
                        data = await reader.read(min(left, 1 << 18))
                    if not data:
                        raise httpx.RemoteProtocolError(
                            f"The server closed the connection {left} bytes before the end "
                            "of the body.")
                    left -= len(data)
                    yield data
            else:
                while True:
                    async with asyncio.timeout(self._timeout):
                        data = await reader.read(1 << 18)
                    if not data:
                        break
                    yield data
        except TimeoutError as exc:
            raise httpx.ReadTimeout("The response body stalled past the read timeout.") from exc
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError("The server closed the connection mid-body.") from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("A chunk size line is too long.") from exc
        except ConnectionError as exc:
            raise httpx.ReadError(f"The connection broke mid-body ({exc}).") from exc
        self._complete = True

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._complete and self._keep_alive:
            self._transport._give_back(self._address, connection)
        else:
            _close(connection)


def _request_head(request: httpx.Request) -> bytes:
    target = request.url.raw_path
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in request.headers.raw]
    lines.append(b"\r\n")
    return b"".join(lines)


def _parse_head(raw: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    if len(raw) > _MAX_HEADER_BYTES:
        raise httpx.RemoteProtocolError("The response head is too long.")
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise httpx.RemoteProtocolError(f"Not an HTTP/1.1 status line: {lines[0][:100]!r}.")
    try:
        status = int(parts[1])
    except ValueError as exc:
        raise httpx.RemoteProtocolError(f"Bad status line {lines[0][:100]!r}.") from exc
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError(f"Bad header line {line[:100]!r}.")
        headers.append((name.strip(), value.strip()))
    return status, parts[2] if len(parts) > 2 else b"", headers


def _chunk_size(line: bytes) -> int:
    try:
        return int(line.split(b";", 1)[0].strip(), 16)
    except ValueError as exc:
        raise httpx.RemoteProtocolError(f"Bad chunk size line {line[:50]!r}.") from exc


async def _connect(address: tuple[str, int], timeout: float | None) -> _Connection:
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.open_connection(*address, limit=_MAX_HEADER_BYTES)
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(f"No connection to {address[0]}:{address[1]} in time.") from exc
    except OSError as exc:
        raise httpx.ConnectError(f"Cannot connect to {address[0]}:{address[1]}: {exc}") from exc


def _close(connection: _Connection) -> None:
    connection[1].close()


def lean_transport_for(base_url: str, **options: Any) -> LeanTransport | None:
    """The lean transport for a plain-http URL no proxy applies to; None otherwise."""
    url = httpx.URL(base_url)
    if url.scheme != "http":
        return None
    proxies = urllib.request.getproxies()
    if ("http" in proxies or "all" in proxies) and not urllib.request.proxy_bypass(url.host):
        return None
    return LeanTransport(**options)


__all__ = ["LeanTransport", "lean_transport_for"]
