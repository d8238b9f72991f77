"""The ``redline`` command line: ``main()`` turns redline errors into one line and an exit code."""

from __future__ import annotations

import sys
import traceback

import click
from rich.markup import escape

from redline.cli.app import app, state
from redline.cli.common import err_console
from redline.errors import RedlineError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``redline`` script."""
    try:
        app(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
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
