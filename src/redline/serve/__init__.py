"""``redline serve``: an OpenAI-compatible HTTP server in front of any target.

>>> from redline.serve import create_app, background_server
>>> from redline.targets import resolve_target
>>> with background_server(create_app(resolve_target("mock"))) as base_url:
...     target = resolve_target(f"openai:{base_url}#mock")

The wire format lives in :mod:`redline.serve.schema` (pydantic only); the app and the
server import FastAPI and uvicorn (extra ``guard``) when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.serve.app import APIError, create_app
    from redline.serve.server import background_server, run_server

_LAZY = {
    "APIError": "redline.serve.app",
    "create_app": "redline.serve.app",
    "background_server": "redline.serve.server",
    "run_server": "redline.serve.server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redline.serve' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["APIError", "background_server", "create_app", "run_server"]
