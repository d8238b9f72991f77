"""Signing keys made by many processes at once: one key, whole, for all of them."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from redline.guard.signing import load_or_create_signer
from redline.keys import ensure_key_pair, key_id


def _race(private: str, barrier: multiprocessing.synchronize.Barrier,  # type: ignore[name-defined]
          out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    path = Path(private)
    barrier.wait()  # every process asks for the key at the same moment
    try:
        key, created = ensure_key_pair(path, path.with_suffix(".pub"))
        out.put((key_id(key.public_key()), created))
    except BaseException as exc:  # the test reports it; a raw traceback is the bug
        out.put(("error", repr(exc)))


def test_processes_racing_for_a_fresh_key_all_get_the_one_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    private = tmp_path / "home" / "keys" / "redline.key"
    ctx = multiprocessing.get_context("fork")
    n = 8
    for round_ in range(3):
        target = private.with_name(f"r{round_}.key")
        barrier, out = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(str(target), barrier, out)) for _ in range(n)]
        for p in procs:
            p.start()
        got = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert not [g for g in got if g[0] == "error"], got
        assert len({g[0] for g in got}) == 1, got  # one key for all
        assert sum(1 for g in got if g[1]) == 1  # made exactly once
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        public = serialization.load_pem_public_key(target.with_suffix(".pub").read_bytes())
        assert key_id(public) == got[0][0]  # type: ignore[arg-type]
        leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
        assert not leftovers  # no temporary files left behind


def test_an_existing_key_is_read_not_replaced(tmp_path: Path) -> None:
    private = tmp_path / "redline.key"
    first, created = ensure_key_pair(private, private.with_suffix(".pub"))
    private.with_suffix(".pub").unlink()  # a crash between the two halves
    again, created_again = ensure_key_pair(private, private.with_suffix(".pub"))
    assert created and not created_again
    assert key_id(first.public_key()) == key_id(again.public_key())
    assert private.with_suffix(".pub").is_file()


def _race_signer(private: str, barrier: multiprocessing.synchronize.Barrier,  # type: ignore[name-defined]
                 out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    barrier.wait()
    try:
        out.put(load_or_create_signer(private).key_id)
    except BaseException as exc:
        out.put("error: " + repr(exc))


def test_guards_starting_at_once_with_no_key_share_one_signing_key(tmp_path: Path) -> None:
    target = tmp_path / "keys" / "guard.key"
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_race_signer, args=(str(target), barrier, out)) for _ in range(6)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert not [g for g in got if g.startswith("error")], got
    assert len(set(got)) == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
