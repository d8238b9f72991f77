"""``redline export inspect``: redline suites as tasks for other eval frameworks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console

export_app = typer.Typer(help="Write redline suites as tasks other tools run (Inspect).",
                         no_args_is_help=True)


@export_app.command("inspect")
def export_inspect(
    suite: Annotated[str, typer.Argument(help="Suite name or file (.yaml/.jsonl).")],
    out: Annotated[Path, typer.Option(help="Folder for task.py and samples.jsonl (new or "
                                      "empty).")],
    seed: Annotated[int, typer.Option(help="Seed of the suite's dataset.")] = 0,
    size: Annotated[int | None, typer.Option(
        min=1, help="At most N samples (default: the suite's default size).")] = None,
) -> None:
    """Write an Inspect task that runs SUITE with redline's scorers and metrics."""
    from redline.interop.inspect_export import export_inspect_task

    task = export_inspect_task(suite, out, seed=seed, size=size)
    console.print(f"wrote {task}", highlight=False)
    console.print(f"run it: inspect eval {task} --model openai-api/redline/MODEL "
                  "--model-base-url http://127.0.0.1:8000/v1  (REDLINE_API_KEY=any)",
                  highlight=False)
