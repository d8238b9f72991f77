"""Rendering: one Jinja2 template set and one stylesheet, shipped in the package.

Templates autoescape everything; the only markup passed through unescaped is the SVG that
:mod:`redline.report.svg` builds from numbers (and escapes itself). Every text from a
model, a probe or a config passes through :func:`redline.dashboard.security.hide` first.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from redline.dashboard.security import hide, hide_text

HERE = Path(__file__).parent
NAV = (("runs", "/runs", "Runs"), ("traffic", "/traffic", "Guarded traffic"))
"""The top bar: (section, path, label). A review queue adds its entry here."""


@cache
def environment() -> Environment:
    """The template environment (built once)."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hide"] = hide
    env.filters["hide_text"] = lambda text: hide_text(str(text)) if text is not None else ""
    env.filters["pct"] = lambda x: "n/a" if x is None else f"{x:.1%}"
    env.filters["num"] = lambda x, d=3: "n/a" if x is None else f"{x:.{d}f}"
    env.filters["when"] = _when
    env.filters["short"] = lambda text, n=12: str(text)[:n]
    env.globals["nav"] = NAV
    env.globals["query"] = _query
    return env


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page from a template with the request, the nav and ``context``."""
    section = request.url.path.strip("/").split("/", 1)[0] or "runs"
    html = environment().get_template(template).render(
        request=request, section=section, **context
    )
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A plain page that says what went wrong, never a traceback."""
    titles = {400: "Bad request", 401: "Token needed", 403: "Forbidden", 404: "Not found",
              405: "Read-only", 500: "Something went wrong"}
    return render(request, "error.html", status_code=status, title=titles.get(status, "Error"),
                  message=message, code=status)


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment.replace("T", " ")[:19]
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _query(request: Request, **changes: Any) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"
