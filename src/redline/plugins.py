"""Plugins: one way to add suites, scorers, targets, attacks and more without editing redline.

Plugins add targets, suites, scorers, probes, transforms, attacks, guard layers and
target profiles.

A plugin is a Python module that registers things with redline's decorators when it is
imported (``@suite``, ``@scorer``, ``@target_kind``, ``@probe``, ``@transform``,
``@attack``, ``@layer_kind``, :func:`register_profile`). redline imports plugins

- named in the ``redline.plugins`` entry-point group of any installed package::

      [project.entry-points."redline.plugins"]
      my_suites = "my_package.redline_plugin"

- given as ``--plugin MODULE`` on any command (repeatable), or listed, comma-separated,
  in ``$REDLINE_PLUGINS``.

redline's own organism world is such a plugin (``redline.organisms.plugin``): core suites,
the red team, the audit and interp never import it.

A module that fails to import stops the command with one line naming the plugin; a
half-loaded registry is never used silently.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable

from redline.errors import ConfigError

GROUP = "redline.plugins"
ENV = "REDLINE_PLUGINS"

_loaded: set[str] = set()
_entry_points_done = False
_lock = threading.RLock()


def load_plugins(modules: Iterable[str] = ()) -> list[str]:
    """Import every installed plugin (once) and the named ``modules``.

    Registries call this before a lookup, so a plugin's suites or scorers are found by
    name from any command or from Python.

    Returns:
        The modules imported by this call.

    Raises:
        ConfigError: a plugin module cannot be imported.
    """
    global _entry_points_done
    done: list[str] = []
    with _lock:
        wanted = [m.strip() for m in modules if m.strip()]
        wanted += [m.strip() for m in os.environ.get(ENV, "").split(",") if m.strip()]
        if not _entry_points_done:
            _entry_points_done = True
            from importlib.metadata import entry_points

            for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
                wanted.append(point.value.split(":")[0])
        for module in wanted:
            if module in _loaded:
                continue
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise ConfigError(
                    f"Plugin '{module}' could not be imported ({exc}); check --plugin, "
                    f"${ENV} and the '{GROUP}' entry points of installed packages."
                ) from exc
            _loaded.add(module)
            done.append(module)
    return done


def loaded_plugins() -> list[str]:
    """The plugin modules imported so far, in import order."""
    return sorted(_loaded)
