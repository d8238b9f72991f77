"""Component spec strings: ``name``, ``name:value`` or ``name:key=value,key=value``.

Transforms, attacks and suites are named on the command line this way
(``template:roleplay``, ``casing:mode=upper``, ``fuzz:generations=4,population=8``). The
bare ``name:value`` form sets the factory's first parameter. Values are converted to the
type of the parameter's default (int, float, bool, str).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from redline.errors import ConfigError

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9._:-]*$")
"""Taxonomy tags look like ``owasp-llm-2025:LLM01`` or ``atlas:AML.T0054``."""


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``name:k=v,k2=v2`` (or ``name:value``) into the name and raw options.

    A bare value is returned under the key ``""`` (the factory's first parameter).

    Raises:
        ConfigError: the spec is empty or an option has no name.
    """
    name, _, rest = spec.strip().partition(":")
    if not name:
        raise ConfigError(f"'{spec}' names nothing; expected NAME or NAME:key=value.")
    if not rest:
        return name, {}
    if "=" not in rest:
        return name, {"": rest}
    options: dict[str, str] = {}
    for pair in rest.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Option '{pair}' in '{spec}' must look like key=value.")
        options[key.strip().replace("-", "_")] = value.strip()
    return name, options


def bind_options(factory: Callable[..., Any], raw: Mapping[str, str], what: str) -> dict[str, Any]:
    """Convert raw string options to the factory's parameter types.

    Raises:
        ConfigError: an unknown option or a value of the wrong type.
    """
    params = [p for p in inspect.signature(factory).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    by_name = {p.name: p for p in params}
    bound: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "":
            if not params:
                raise ConfigError(f"{what} takes no options, got '{value}'.")
            param = params[0]
        else:
            param = by_name.get(key)  # type: ignore[assignment]
            if param is None:
                known = ", ".join(by_name) or "none"
                raise ConfigError(f"{what} has no option '{key}'. Its options: {known}.")
        bound[param.name] = _convert(value, param.default, f"{what} option '{param.name}'")
    return bound


def _convert(value: str, default: Any, what: str) -> Any:
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError as exc:
        raise ConfigError(
            f"{what} must be a {type(default).__name__}, got '{value}'."
        ) from exc
    return value


def option_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """A factory's option names and defaults, for catalogues."""
    return {p.name: p.default for p in inspect.signature(factory).parameters.values()}


def canonical(name: str, options: Mapping[str, Any]) -> str:
    """The canonical spec of a configured component: ``name`` or ``name:k=v,...`` sorted."""
    if not options:
        return name
    return name + ":" + ",".join(f"{k}={options[k]}" for k in sorted(options))


def check_tags(tags: tuple[str, ...], owner: str) -> None:
    """Raise if a tag is malformed.

    Raises:
        ConfigError: a tag does not look like ``scheme:value``.
    """
    for tag in tags:
        if not TAG_PATTERN.match(tag):
            raise ConfigError(
                f"{owner} has a malformed tag '{tag}'; tags look like owasp-llm-2025:LLM01."
            )
