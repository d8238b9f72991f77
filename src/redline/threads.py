"""How many CPU threads torch uses inside a block."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from redline.errors import ConfigError


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` intra-op CPU threads inside the block; None leaves it as it is.

    Tiny models on a busy 2-core machine often run several times faster on one thread than
    on an oversubscribed pool, and a server's encoder pass on one thread leaves the other
    cores to its event loop. Without torch installed the block runs unchanged (the code
    that needs torch says which extra is missing).

    Raises:
        ConfigError: ``n`` is below 1.
    """
    if n is not None and n < 1:
        raise ConfigError(f"threads must be at least 1, got {n}.")
    try:
        import torch
    except ImportError:
        torch = None  # type: ignore[assignment]
    if n is None or torch is None or torch.get_num_threads() == n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
