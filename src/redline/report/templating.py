"""The one template set behind every redline report (Jinja2, autoescaped).

Every report is a child of ``templates/base.html`` and carries ``templates/common.css``
(shared with the dashboard) and ``templates/report.css`` inline, so a page is one file
that opens offline. Text from models and users is escaped by the environment; the only
markup passed through unescaped is the SVG that :mod:`redline.report.svg` builds, which
escapes its own text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


@cache
def environment() -> Environment:
    """The report template environment (built once, on first use)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def svg(markup: str) -> Markup:
    """Mark an SVG string from :mod:`redline.report.svg` as safe to embed."""
    from markupsafe import Markup

    return Markup(markup)  # noqa: S704 - built by redline.report.svg, which escapes its text


def stylesheet(name: str) -> str:
    """Return a stylesheet of the templates folder.

    ``common.css`` is shared with the dashboard; ``report.css`` is what reports add.
    """
    return (TEMPLATES / name).read_text("utf-8")


def render(template: str, **context: Any) -> str:
    """Render ``template`` with the shared stylesheet, version and ``context``."""
    from markupsafe import Markup

    from redline._version import __version__

    context.setdefault("nav", ())
    context.setdefault("made_at", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    page = environment().get_template(template).render(
        stylesheet=Markup(stylesheet("common.css") + stylesheet("report.css")),  # noqa: S704
        redline_version=__version__,
        **context,
    )
    return page + "\n"
