"""``redline dashboard``: serve the read-only web dashboard over the store and case files."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import err_console


def dashboard(
    db: Annotated[str | None, typer.Option(
        help="Store URL (default REDLINE_DB or $REDLINE_HOME/redline.db).")] = None,
    folder: Annotated[list[Path] | None, typer.Option(
        "--dir", help="Folder to find audits (case.dsse.json), eval results and eval series "
        "in, a few levels deep (repeatable; default the current folder).")] = None,
    host: Annotated[str, typer.Option(
        help="Address to bind; anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).", min=0,
                                      max=65535)] = 8765,
    token: Annotated[str | None, typer.Option(
        envvar="REDLINE_DASHBOARD_TOKEN",
        help="Require this token on every request (Bearer header, or ?token= once).")] = None,
) -> None:
    """Browse runs, transcripts, safety cases (with verify), series and traffic. Read-only.

    Serves a local web app over the store and the case files under --dir.
    """
    from redline import paths
    from redline.dashboard.security import is_loopback
    from redline.errors import ConfigError, MissingExtraError

    if not is_loopback(host) and not token:
        raise ConfigError(f"--host {host} is not a loopback address: give --token SECRET (or "
                          "REDLINE_DASHBOARD_TOKEN) so only people with it can read the store.")
    if token is not None and len(token) < 16:
        raise ConfigError("--token must be at least 16 characters; make one with "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`.")
    folders = tuple(folder or [Path(".")])
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise ConfigError(f"--dir {missing[0]} is not a folder.")
    sock = _bind(host, port)  # first: a port in use is said before anything else
    url = db or paths.database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        # Never create the user's store from a viewer: show the case files over an empty one.
        err_console.print(f"No store at {url.removeprefix('sqlite:///')} yet (no red-team run "
                          "or guarded traffic); showing the files under --dir only.",
                          highlight=False)
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='redline-dashboard-')) / 'empty.db'}"
    try:
        import uvicorn

        from redline.dashboard import DashboardSettings, create_app
    except ModuleNotFoundError as exc:
        raise MissingExtraError("dashboard", exc.name or "fastapi", "redline dashboard") from exc
    app = create_app(DashboardSettings(store_url=url, folders=folders, token=token, host=host))
    address = f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}/"
    err_console.print(f"redline dashboard on {address}" + (
        "  (open it once as ADDRESS?token=TOKEN to sign in)" if token else ""), highlight=False)
    print(address, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or one clear error line."""
    from redline.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        why = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"Cannot listen on {host}:{port}: {why}. Pick another --port or "
                          "--host.") from exc
    return sock
