"""A bare relay for the guard benchmarks: the floor any proxy process adds (see guard_latency).

It does what the guard does minus everything that makes it a guard: uvicorn (uvloop,
httptools) takes each POST, and the same aiohttp sender the guard uses passes the body to
the upstream and the answer back. No parsing, checks, events or log. The latency it adds
over calling the upstream directly is the cost of the extra process hop on this machine.

    python benchmarks/guard_relay_stub.py --upstream http://127.0.0.1:8000/v1 --port 8001
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from redline.targets.transport import FastSender


def relay_app(upstream: str) -> Any:
    """A raw ASGI app that relays every POST to ``upstream`` + its path after /v1."""
    sender = FastSender(max_connections=64, timeout=60)
    headers = {"Content-Type": "application/json"}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":  # a readiness probe: answered here
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"].removeprefix("/v1")
        response = await sender.post(upstream + path, b"".join(chunks), headers)
        body = await response.aread()
        await response.aclose()
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="base URL ending in /v1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(relay_app(args.upstream.rstrip("/")), host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
