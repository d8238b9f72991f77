"""``redline serve TARGET``: put any target behind an OpenAI-compatible HTTP endpoint."""

from __future__ import annotations

from typing import Annotated

import typer

from redline.cli.app import NoCacheOpt, OptionOpt, TargetArg
from redline.cli.common import err_console, parse_options
from redline.cli.telemetry import CaptureContentOpt, OtlpEndpointOpt, telemetry_for


def serve(
    target: TargetArg,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port to listen on.",
                                      min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 exposes it to the "
                                      "network.")] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(
        "--model-name", help="Model id to report in /v1/models and answers (default: the "
        "target spec).")] = None,
    request_timeout: Annotated[float, typer.Option(
        help="Seconds the target may take per answer before the client gets 504.",
        min=0.1)] = 300.0,
    max_body_bytes: Annotated[int, typer.Option(
        help="Largest request body accepted; larger ones get 413.", min=1)] = 1_000_000,
    max_tokens_limit: Annotated[int, typer.Option(
        help="Largest max_tokens a request may ask for.", min=1)] = 4096,
    option: OptionOpt = None,
    no_cache: NoCacheOpt = False,
    otlp_endpoint: OtlpEndpointOpt = None,
    otel_capture_content: CaptureContentOpt = False,
) -> None:
    """Serve TARGET as an OpenAI-compatible API (/v1/chat/completions, /v1/models).

    Other tools (garak, PyRIT, Inspect, curl, the openai SDK) can then test the target
    at http://HOST:PORT/v1 with any model name. Ctrl-C stops the server.
    """
    from redline.serve.app import create_app
    from redline.serve.server import run_server
    from redline.targets import resolve_target

    model = resolve_target(target, cache=False if no_cache else None, **parse_options(option))
    name = model_name or model.spec
    app = create_app(
        model, model_name=name, max_body_bytes=max_body_bytes, request_timeout=request_timeout,
        max_tokens_limit=max_tokens_limit, close_target=True,
        telemetry=telemetry_for("redline.serve", otlp_endpoint, otel_capture_content),
    )
    err_console.print(
        f"Serving [bold]{model.spec}[/] as model [bold]{name}[/] at "
        f"http://{host}:{port}/v1  (Ctrl-C stops)", highlight=False,
    )
    run_server(app, host=host, port=port, log_level="warning")
