"""The fast (aiohttp) transport against a scripted asyncio server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from redline.targets.transport import fast_transport_for

pytest.importorskip("httpx_aiohttp")


def transport() -> httpx.AsyncBaseTransport:
    found = fast_transport_for("http://127.0.0.1:1/", max_connections=16)
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
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport(), timeout=2.0) as c:
        yield c


async def test_keep_alive_reuses_one_connection_and_echoes_bodies(
    client: httpx.AsyncClient,
) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            body = await server.read_request(reader)
            writer.write(reply(body))

    async with Server(echo) as server:
        for i in range(5):
            response = await client.post(f"{server.url}/v1/x", json={"i": i})
            assert response.status_code == 200
            assert response.json() == {"i": i}
    assert server.requests == 5
    assert server.connections == 1


async def test_chunked_body_with_trailer_is_joined(client: httpx.AsyncClient) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
        await server.read_request(reader)
        writer.write(reply(b"again"))

    async with Server(chunked) as server:
        lines = []
        async with client.stream("POST", f"{server.url}/s", content=b"{}") as response:
            async for piece in response.aiter_bytes():
                lines.append(piece)
        assert b"".join(lines) == b"hello world"
        second = await client.post(f"{server.url}/s", content=b"{}")
        assert second.content == b"again"
    assert server.connections == 1  # the chunked body was read to its end: connection reused


async def test_close_delimited_body_is_read_to_eof_and_not_reused(
    client: httpx.AsyncClient,
) -> None:
    async def close_delimited(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        await writer.drain()

    async with Server(close_delimited) as server:
        for _ in range(2):
            assert (await client.post(server.url, content=b"x")).content == b"all of it"
    assert server.connections == 2


async def test_a_kept_alive_connection_the_server_closed_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        await server.read_request(reader)
        writer.write(reply(b"ok"))  # keep-alive promised, but closed after one answer
        await writer.drain()

    async with Server(one_per_connection) as server:
        for _ in range(3):
            assert (await client.post(server.url, content=b"x")).content == b"ok"
    assert server.requests == 3


async def test_a_fresh_connection_closed_without_answer_is_a_protocol_error(
    client: httpx.AsyncClient,
) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)

    async with Server(drop) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url, content=b"x")


async def test_truncated_body_is_a_protocol_error(client: httpx.AsyncClient) -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()

    async with Server(short) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url, content=b"x")


async def test_read_timeout_raises_httpx_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await server.read_request(reader)
        await asyncio.sleep(5)

    async with Server(silent) as server:
        async with httpx.AsyncClient(transport=transport(), timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(server.url, content=b"x")


async def test_refused_connection_raises_connect_error(client: httpx.AsyncClient) -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        return

    async with Server(never) as server:
        url = server.url
    with pytest.raises(httpx.ConnectError):
        await client.post(url, content=b"x")


async def test_concurrent_requests_each_get_their_own_answer(client: httpx.AsyncClient) -> None:
    async def slow_echo(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int
    ) -> None:
        while True:
            body = await server.read_request(reader)
            await asyncio.sleep(0.01)
            writer.write(reply(body))

    async with Server(slow_echo) as server:
        answers = await asyncio.gather(*(
            client.post(server.url, json={"i": i}) for i in range(20)))
        assert [a.json()["i"] for a in answers] == list(range(20))
        assert server.connections <= 20


async def test_head_and_no_content_answers_have_no_body(client: httpx.AsyncClient) -> None:
    async def bodiless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            server.requests += 1
            if server.requests == 1:  # HEAD: the length of the body it would have sent
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            elif server.requests == 2:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:
                writer.write(reply(b"after"))

    async with Server(bodiless) as server:
        head = await client.head(server.url)
        empty = await client.get(server.url)
        after = await client.get(server.url)
    assert (head.status_code, head.content) == (200, b"")
    assert (empty.status_code, empty.content) == (204, b"")
    assert after.content == b"after" and server.connections == 1


def test_only_plain_http_without_a_proxy_gets_the_fast_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert fast_transport_for("http://127.0.0.1:8000/v1", max_connections=4) is not None
    assert fast_transport_for("https://api.example.com/v1", max_connections=4) is None
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    assert fast_transport_for("http://10.0.0.5:8000/v1", max_connections=4) is None
