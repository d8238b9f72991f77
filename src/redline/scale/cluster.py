"""Running units on Ray: connect or start a cluster, submit, retry, show progress.

Each unit is one Ray task (:func:`~redline.scale.units.execute_unit` for evals,
:func:`~redline.scale.redteam.execute_redteam_unit` for red teams) that Ray retries
on another worker when its worker process or node dies (``max_retries``). Tasks of the
same function reuse Ray's worker processes, and each process keeps its last target
loaded, so the shards of one model are not a model load each. Progress is read from the
store, where every worker writes its samples as it finishes each batch.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError, MissingExtraError, RedlineError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from redline.store import Store

RETRIES = 3
"""Times Ray runs a unit again after its worker died (a unit's own errors are not retried)."""

POLL_S = 0.5


class Cluster:
    """A Ray cluster the driver is connected to.

    Args:
        address: a running cluster (``HOST:PORT`` of its head, ``ray://HOST:PORT`` or
            ``auto``); None starts a local one for this process.
        num_cpus: CPUs of a local cluster (default: all of this machine's).

    Raises:
        MissingExtraError: Ray is not installed.
        ConfigError: the address does not answer.
    """

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ModuleNotFoundError as exc:
            raise MissingExtraError("scale", exc.name or "ray", "--executor ray") from exc
        self._ray: Any = ray  # typed Any: ray's API is only partly annotated
        self.started = False
        if ray.is_initialized():  # a caller (a test, a notebook) already connected
            return
        if address is not None:
            _check_reachable(address)
        import logging

        try:
            if address is None:
                ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
            raise ConfigError(
                f"Cannot start or join {where}: {str(exc).splitlines()[0]}. Start one with "
                "`ray start --head` and pass its address, or leave out --ray-address."
            ) from exc
        self.started = True

    @property
    def cpus(self) -> int:
        """CPUs the cluster has in all."""
        return int(self._ray.cluster_resources().get("CPU", 0))

    def run(self, units: Sequence[BaseModel], *, store: Store, run_id: str, total: int | None,
            progress: Callable[[int, int | None], None] | None = None,
            execute: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
            ) -> list[dict[str, Any]]:
        """Run every unit to the end; what each did (:class:`~redline.scale.units.UnitDone`).

        Args:
            units: the units; each has a ``target`` (named when it fails).
            store: where the workers write, counted for progress.
            run_id: the run the units belong to.
            total: attempts the run will have (None: not known in advance).
            progress: called with (attempts stored, total) as workers store them.
            execute: the function a worker runs on a unit's data (default: an eval unit's).

        Raises:
            RedlineError: a unit failed (its own error, or its worker died more than
                :data:`RETRIES` times).
        """
        from redline.scale.units import count_attempts, execute_unit

        ray = self._ray
        task = ray.remote(num_cpus=1, max_retries=RETRIES)(execute or execute_unit)
        pending = {task.remote(u.model_dump()): u for u in units}
        done: list[dict[str, Any]] = []
        last = -1
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=POLL_S,
                                fetch_local=True)
            for ref in ready:
                unit = pending.pop(ref)
                try:
                    done.append(ray.get(ref))
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if isinstance(exc.cause, RedlineError) else None
                    if cause is not None:
                        raise cause from None
                    raise RedlineError(
                        f"A unit of run {run_id} ({getattr(unit, 'target', '?')}) failed: "
                        f"{str(exc).strip().splitlines()[-1]}. Run the same command again to "
                        "resume; finished samples are kept."
                    ) from exc
                except ray.exceptions.RayError as exc:
                    raise RedlineError(
                        f"A unit of run {run_id} ({getattr(unit, 'target', '?')}) was lost: "
                        f"{type(exc).__name__}. Run the same command again to resume."
                    ) from exc
            if progress is not None:
                stored = count_attempts(store, run_id)
                if stored != last:
                    progress(stored, total)
                    last = stored
        return done

    def close(self) -> None:
        """Stop the local cluster this object started (a joined one is left running)."""
        if self.started:
            self._ray.shutdown()
            self.started = False


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    # ray.init waits minutes on an address that does not answer; a socket says at once.
    if address in ("auto", "local"):
        return
    rest = address.removeprefix("ray://")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"--ray-address '{address}' must be HOST:PORT (the head's GCS port, 6379 by "
            "default), ray://HOST:10001 or auto."
        )
    started = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except OSError as exc:
        raise ConfigError(
            f"No Ray cluster answers at {address} ({exc.strerror or type(exc).__name__} after "
            f"{time.monotonic() - started:.1f} s). Start one with `ray start --head` there, or "
            "leave out --ray-address to start a local one."
        ) from exc
