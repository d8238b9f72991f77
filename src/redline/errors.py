"""redline's exception tree.

Every failure a user can cause or meet is one of these, and its message says what
happened and what to do, on one line::

    RedlineError
    ├── ConfigError            malformed config, policy or option value
    ├── TargetSpecError        a target spec string that names no known kind or is malformed
    ├── MissingExtraError      an optional dependency is not installed (names the pip line)
    ├── TargetError            a target failed while generating
    │   ├── TargetUnreachableError   connection refused, DNS failure, timeouts after retries
    │   ├── TargetHTTPError          a non-retryable or exhausted HTTP error status
    │   └── TargetResponseError      a response that cannot be understood (malformed JSON, ...)
    ├── CheckpointError        a model checkpoint that cannot be read
    └── StoreError             the store cannot be opened, migrated or written

The CLI prints ``str(error)`` and exits with ``error.exit_code``; it shows a traceback
only with ``--debug``.
"""

from __future__ import annotations


class RedlineError(Exception):
    """Base of every error redline raises on purpose."""

    exit_code: int = 1


class ConfigError(RedlineError):
    """A config file, policy or option value is malformed."""

    exit_code = 2


class TargetSpecError(ConfigError):
    """A target spec string is malformed or names no known kind."""


class MissingExtraError(RedlineError):
    """An optional dependency is missing; the message gives the pip line that installs it."""

    exit_code = 3

    def __init__(self, extra: str, module: str, feature: str, *, install: str | None = None
                 ) -> None:
        """``install`` replaces the ``pip install 'redline[extra]'`` line when no extra fits."""
        self.extra = extra
        self.module = module
        install = install or f"pip install 'redline[{extra}]'"
        super().__init__(
            f"{feature} needs the '{module}' package, which is not installed. "
            f"Install it with: {install}"
        )


class TargetError(RedlineError):
    """A target failed while generating."""

    exit_code = 4


class TargetUnreachableError(TargetError):
    """The target could not be reached (connection refused, timeout) after all retries."""


class TargetHTTPError(TargetError):
    """The target answered with an HTTP error status that retries did not cure."""

    def __init__(self, message: str, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(message)


class TargetResponseError(TargetError):
    """The target answered with something that cannot be understood."""


class CheckpointError(RedlineError):
    """A model checkpoint folder is missing, incomplete or unreadable."""

    exit_code = 2


class StoreError(RedlineError):
    """The store cannot be opened, migrated or written."""

    exit_code = 5


def require(module: str, *, extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` unless ``module`` can be imported.

    Args:
        module: Top-level module name, for example ``"torch"``.
        extra: The redline extra that installs it, for example ``"hf"``.
        feature: What needs it, in words, for the message.
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(extra, module, feature)


__all__ = [
    "CheckpointError",
    "ConfigError",
    "MissingExtraError",
    "RedlineError",
    "StoreError",
    "TargetError",
    "TargetHTTPError",
    "TargetResponseError",
    "TargetSpecError",
    "TargetUnreachableError",
    "require",
]
