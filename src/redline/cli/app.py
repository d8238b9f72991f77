"""The ``redline`` command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from redline._version import __version__
from redline.cli.common import console, err_console, parse_options, run

app = typer.Typer(
    name="redline",
    help="Test, gate, guard and watch AI models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _CLIState:
    debug = False


state = _CLIState()

TargetArg = Annotated[
    str,
    typer.Argument(
        help="Target spec, e.g. mock, hf:/path, openai:URL#MODEL. See `redline targets`."
    ),
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option", "-o", help="Target option key=value (repeatable), e.g. -o timeout=30."
    ),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Do not read or write the on-disk response cache.")
]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"redline {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print redline's version and exit.", callback=_print_version,
        is_eager=True)] = False,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="Import a plugin module that registers suites, scorers, "
                     "targets... (repeatable; also after any command, or $REDLINE_PLUGINS)."),
    ] = None,
) -> None:
    """Test, gate, guard and watch AI models."""
    state.debug = debug
    if plugin:
        from redline.plugins import load_plugins

        load_plugins(plugin)
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")


list_app: typer.Typer = typer.Typer(
    help="Browse the catalogue: probes, transforms, attacks, scorers (instant, runs nothing).",
    no_args_is_help=True,
)
app.add_typer(list_app, name="list")


@list_app.command("scorers")
def list_scorers() -> None:
    """List the registered scorers with what a positive judgement means."""
    from redline.scorers import scorer_infos

    for info in scorer_infos():
        console.print(f"[bold]{info.name}[/]  {info.summary}", highlight=False)
        console.print(f"    positive: {info.positive}", highlight=False)
        if info.tags:
            console.print(f"    tags: {', '.join(info.tags)}", highlight=False)
        if info.needs:
            console.print(f"    needs: pip install 'redline[{info.needs}]'", highlight=False,
                          markup=False)


@app.command()
def version() -> None:
    """Print redline's version (also `redline --version`)."""
    console.print(f"redline {__version__}", highlight=False)


@app.command()
def targets() -> None:
    """List the kinds of target, with an example spec each."""
    from redline.targets import target_kinds
    from redline.targets.base import missing_modules

    for kind in target_kinds():
        console.print(f"[bold]{kind.name:<8}[/] {kind.example}", highlight=False)
        console.print(f"         {kind.summary}", highlight=False)
        if kind.option_names():
            console.print(f"         options: {', '.join(kind.option_names())}", highlight=False)
        missing = missing_modules(kind)
        if missing:
            console.print(
                f"         [yellow]not installed ({', '.join(missing)}):[/] "
                f"pip install 'redline\\[{kind.extra}]'",
                highlight=False,
            )


@app.command()
def chat(
    target: TargetArg,
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="Ask once and exit.")] = None,
    system: Annotated[str | None, typer.Option(help="A system message to start with.")] = None,
    max_tokens: Annotated[int, typer.Option(help="Most tokens per answer.", min=1)] = 128,
    temperature: Annotated[float, typer.Option(help="0 is greedy.", min=0.0)] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling.")] = None,
    option: OptionOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Chat with a target: interactively, or once with --prompt."""
    from redline.targets import resolve_target, stream
    from redline.types import GenerateParams, Message

    params = GenerateParams(max_tokens=max_tokens, temperature=temperature, seed=seed)
    model = resolve_target(target, cache=False if no_cache else None, **parse_options(option))
    history: list[Message] = [Message("system", system)] if system else []

    async def answer(text: str) -> str:
        history.append(Message("user", text))
        pieces = []
        async for piece in stream(model, history, params):
            pieces.append(piece)
            console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
        console.print()
        reply = "".join(pieces)
        history.append(Message("assistant", reply))
        return reply

    async def session() -> None:
        try:
            if prompt is not None:
                await answer(prompt)
                return
            interactive = sys.stdin.isatty()
            if interactive:
                err_console.print(f"Chatting with [bold]{target}[/]. Empty line or Ctrl-D ends.")
            while True:
                if interactive:
                    err_console.print("[bold cyan]you>[/] ", end="")
                line = sys.stdin.readline()
                if not line or not line.strip():
                    break
                await answer(line.strip())
        finally:
            await model.aclose()

    run(session())


# --- Sub-commands of the parts, one registration each (keep this block last). ---
from redline.cli.audit import audit_command
from redline.cli.dashboard import dashboard
from redline.cli.evals import register as register_evals
from redline.cli.export import export_app
from redline.cli.gate import register as register_gate
from redline.cli.guard import register as register_guard
from redline.cli.interp import interp_app
from redline.cli.models import models_app
from redline.cli.organisms import organisms_app
from redline.cli.redteam import redteam
from redline.cli.scorers import scorers_app
from redline.cli.serve import serve
from redline.cli.share import share_app
from redline.cli.watch import watch
from redline.cli.whitebox import register as register_whitebox

app.command("audit")(audit_command)
register_evals(app)  # redline eval, redline eval-series, redline list suites
register_gate(app)  # redline gate, redline verify, redline keys, redline policy
app.command("redteam")(redteam)
register_whitebox(app)  # redline trigger-search, redline gcg
app.add_typer(organisms_app, name="organisms")
app.add_typer(interp_app, name="interp")
app.add_typer(models_app, name="models")
app.add_typer(scorers_app, name="scorers")
app.command("serve")(serve)
register_guard(app)  # redline guard ..., redline log ...
app.command("watch")(watch)
app.command("dashboard")(dashboard)
app.add_typer(share_app, name="share")
app.add_typer(export_app, name="export")
