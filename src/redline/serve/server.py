"""Running the app with uvicorn: in the foreground (the CLI) or in a background thread.

The background server is what tests and benchmarks use to talk to a target over real
HTTP on 127.0.0.1; ``port=0`` picks a free port, and the context manager yields the
``http://host:port/v1`` base URL an ``openai:`` target (or any OpenAI client) can use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from redline.errors import RedlineError, require

if TYPE_CHECKING:
    from fastapi import FastAPI


def run_server(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8000,
               log_level: str = "info") -> None:
    """Serve ``app`` until interrupted (Ctrl-C or SIGTERM)."""
    require("uvicorn", extra="guard", feature="redline serve")
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


@contextmanager
def background_server(
    app: FastAPI, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 30.0
) -> Iterator[str]:
    """Serve ``app`` from a daemon thread; yield its ``http://host:port/v1`` base URL.

    Raises:
        RedlineError: the server did not start within ``startup_timeout`` seconds.
    """
    require("uvicorn", extra="guard", feature="redline serve")
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="redline-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RedlineError(
                f"The server on {host}:{port} did not start within {startup_timeout:g} s "
                "(is the port taken?)."
            )
        time.sleep(0.01)
    bound = _bound_port(server) or port
    try:
        yield f"http://{host}:{bound}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _bound_port(server: Any) -> int | None:
    for listener in getattr(server, "servers", []):
        for sock in getattr(listener, "sockets", []):
            return int(sock.getsockname()[1])
    return None


__all__ = ["background_server", "run_server"]
