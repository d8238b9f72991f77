"""The ``redline`` command line: ``main()`` turns redline errors into one line and an exit code."""

from __future__ import annotations

import sys
import traceback

from rich.markup import escape

from redline.cli.app import app, state
from redline.cli.common import err_console
from redline.errors import RedlineError

__all__ = ["app", "main"]


def _click_kinds(exc: BaseException) -> set[str]:
    """Names of click's exception classes ``exc`` is an instance of.

    typer >= 0.26 raises the exceptions of its own vendored click (``typer._click``), older
    typer those of ``click``; matching by name handles both.
    """
    return {
        cls.__name__
        for cls in type(exc).__mro__
        if cls.__module__.split(".")[0] in ("click", "typer")
    }


def main() -> None:
    """Entry point of the ``redline`` script."""
    try:
        result = app(standalone_mode=False)
    except RedlineError as exc:
        if state.debug:
            traceback.print_exc()
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:
        kinds = _click_kinds(exc)
        if "Exit" in kinds:
            sys.exit(getattr(exc, "exit_code", 0))
        if "Abort" in kinds:
            err_console.print("Aborted.")
            sys.exit(130)
        if "ClickException" in kinds:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(getattr(exc, "exit_code", 2))
        raise
    if isinstance(result, int) and result:
        sys.exit(result)
