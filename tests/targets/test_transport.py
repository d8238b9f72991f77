"""The fast (aiohttp) sender against a scripted asyncio server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from redline.targets.transport import FastSender, fast_sender_for

pytest.importorskip("aiohttp")


def sender(timeout: float = 2.0) -> FastSender:
    found = fast_sender_for("http://127.0.0.1:1/", max_connections=16, timeout=timeout)
    assert found is not None
    return found

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Server:
    """Runs ``handler(reader, writer, n)`` for the n-th connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer, self.connections)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        self.requests += 1
        return await reader.readexactly(length)


def reply(body: bytes, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


@pytest.fixture
async def client() -> AsyncIterator[FastSender]:
    fast = sender()
    yield fast
    await fast.aclose()


async def post(fast: FastSender, url: str, body: bytes = b"x") -> tuple[int, bytes]:
    response = await fast.post(url, body, {"Content-Type": "application/json"})
    try:
        return response.status_code, await response.aread()
    finally:
        await response.aclose()


async def test_keep_alive_reuses_one_connection_and_echoes_bodies(client: FastSender) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            body = await server.read_request(reader)
            writer.write(reply(body))

    async with Server(echo) as server:
        for i in range(5):
            status, body = await post(client, f"{server.url}/v1/x", json.dumps({"i": i}).encode())
            assert status == 200
            assert json.loads(body) == {"i": i}
    assert server.requests == 5
    assert server.connections == 1


async def test_chunked_lines_split_anywhere_are_joined(client: FastSender) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"7\r\ndata: a\r\n6;ext=1\r\n\ndata:\r\n5\r\n b\r\nl\r\n"
                     b"0\r\nX-Trailer: 1\r\n\r\n")
        await server.read_request(reader)
        writer.write(reply(b"again"))

    async with Server(chunked) as server:
        response = await client.post(f"{server.url}/s", b"{}", {})
        lines = [line async for line in response.aiter_lines()]
        await response.aclose()
        assert lines == ["data: a", "data: b", "l"]
        assert await post(client, f"{server.url}/s") == (200, b"again")
    assert server.connections == 1  # the chunked body was read to its end: connection reused


async def test_close_delimited_body_is_read_to_eof_and_not_reused(client: FastSender) -> None:
    async def close_delimited(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        await writer.drain()

    async with Server(close_delimited) as server:
        for _ in range(2):
            assert await post(client, server.url) == (200, b"all of it")
    assert server.connections == 2


async def test_a_kept_alive_connection_the_server_closed_is_replaced(client: FastSender) -> None:
    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        await server.read_request(reader)
        writer.write(reply(b"ok"))  # keep-alive promised, but closed after one answer
        await writer.drain()

    async with Server(one_per_connection) as server:
        for _ in range(3):
            assert await post(client, server.url) == (200, b"ok")
    assert server.requests == 3


async def test_a_fresh_connection_closed_without_answer_is_a_protocol_error(
    client: FastSender,
) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)

    async with Server(drop) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await post(client, server.url)


async def test_truncated_body_is_a_protocol_error(client: FastSender) -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()

    async with Server(short) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await post(client, server.url)


async def test_read_timeout_raises_httpx_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        await asyncio.sleep(5)

    fast = sender(timeout=0.2)
    async with Server(silent) as server:
        with pytest.raises(httpx.ReadTimeout):
            await post(fast, server.url)
    await fast.aclose()


async def test_refused_connection_raises_connect_error(client: FastSender) -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        return

    async with Server(never) as server:
        url = server.url
    with pytest.raises(httpx.ConnectError):
        await post(client, url)


async def test_concurrent_requests_each_get_their_own_answer(client: FastSender) -> None:
    async def slow_echo(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        while True:
            body = await server.read_request(reader)
            await asyncio.sleep(0.01)
            writer.write(reply(body))

    async with Server(slow_echo) as server:
        answers = await asyncio.gather(*(
            post(client, server.url, json.dumps({"i": i}).encode()) for i in range(20)))
        assert [json.loads(body)["i"] for _, body in answers] == list(range(20))
        assert server.connections <= 16  # the pool's limit


async def test_no_content_answer_has_no_body_and_keeps_the_connection(
    client: FastSender,
) -> None:
    async def bodiless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            await server.read_request(reader)
            if server.requests == 1:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:
                writer.write(reply(b"after"))

    async with Server(bodiless) as server:
        assert await post(client, server.url) == (204, b"")
        assert await post(client, server.url) == (200, b"after")
    assert server.connections == 1


def test_only_plain_http_without_a_proxy_gets_the_fast_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    found = {url: fast_sender_for(url, max_connections=4, timeout=1) for url in (
        "http://127.0.0.1:8000/v1", "https://api.example.com/v1")}
    assert found["http://127.0.0.1:8000/v1"] is not None
    assert found["https://api.example.com/v1"] is None
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    assert fast_sender_for("http://10.0.0.5:8000/v1", max_connections=4, timeout=1) is None
