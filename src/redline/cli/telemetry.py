"""The OpenTelemetry options ``redline guard`` and ``redline serve`` share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from redline.telemetry import Telemetry

OtlpEndpointOpt = Annotated[str | None, typer.Option(
    "--otlp-endpoint", help="Export request spans by OTLP/HTTP to this collector, e.g. "
    "http://localhost:4318 (default: the OTEL_EXPORTER_OTLP_* variables; no export when "
    "neither is set). Needs redline[otel].")]
CaptureContentOpt = Annotated[bool, typer.Option(
    "--otel-capture-content", help="Put prompts and answers in the spans (default: "
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT; off).")]


def telemetry_for(service: str, endpoint: str | None, capture: bool) -> Telemetry | None:
    """The server's telemetry from its flags and the environment; None when not configured."""
    from redline.telemetry import from_environment

    return from_environment(service, endpoint=endpoint, capture_content=capture or None)
