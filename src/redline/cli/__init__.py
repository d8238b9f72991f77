"""The ``redline`` command line: ``main()`` turns redline errors into one line and an exit code."""

from __future__ import annotations

import sys
import traceback

from rich.markup import escape

from redline.cli.app import app, state
from redline.cli.common import err_console
from redline.errors import ConfigError, RedlineError

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


def split_plugins(argv: list[str]) -> tuple[list[str], list[str]]:
    """Take every ``--plugin MODULE`` (or ``--plugin=MODULE``) out of ``argv``, wherever it is.

    So ``--plugin`` works after any command as well as before it.
    """
    rest: list[str] = []
    plugins: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest.append(arg)
            rest.extend(args)
        elif arg == "--plugin":
            module = next(args, "")
            if not module or module.startswith("-"):
                raise ConfigError("--plugin needs a module name, e.g. --plugin my_package.plugin.")
            plugins.append(module)
        elif arg.startswith("--plugin="):
            plugins.append(arg.removeprefix("--plugin="))
        else:
            rest.append(arg)
    return rest, plugins


def main() -> None:
    """Entry point of the ``redline`` script."""
    try:
        argv, plugins = split_plugins(sys.argv[1:])
        if plugins:
            from redline.plugins import load_plugins

            load_plugins(plugins)
        result = app(args=argv, standalone_mode=False)
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
