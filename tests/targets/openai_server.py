"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for target tests.

Each request takes the next behaviour from the script (the last one repeats), so a test
can say "429, then 500, then success" and watch the client recover.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    kind: str  # ok | stream | status | sleep | malformed | drop
    text: str = "hello from the server"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    pieces: tuple[str, ...] = ()


class ScriptedServer:
    def __init__(self) -> None:
        self.script: list[Behaviour] = [Behaviour("ok")]
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(
                        {
                            "path": self.path,
                            # HTTP header names are case-insensitive; compare in lower case.
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "time": time.monotonic(),
                        }
                    )
                    behaviour = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                server.respond(self, behaviour, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, h: BaseHTTPRequestHandler, b: Behaviour, body: dict[str, Any]) -> None:
        if b.kind == "drop":
            h.close_connection = True
            h.wfile.flush()
            h.connection.shutdown(2)
            return
        if b.kind == "sleep":
            time.sleep(b.seconds)
            b = Behaviour("ok", text=b.text)
        if b.kind == "status":
            payload = json.dumps({"error": {"message": f"status {b.status}"}}).encode()
            h.send_response(b.status)
            for k, v in b.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if b.kind == "malformed":
            payload = b'{"choices": [ this is not json'
        elif b.kind == "stream":
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for piece in b.pieces:
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                self._chunk(h, f"data: {json.dumps(chunk)}\n\n".encode())
            self._chunk(h, b"data: [DONE]\n\n")
            self._chunk(h, b"")
            return
        else:
            payload = json.dumps(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": b.text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
                }
            ).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    @staticmethod
    def _chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
