"""``redline eval``, ``redline eval-series`` and ``redline list suites``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from redline.cli.common import console, err_console, parse_options, run

if TYPE_CHECKING:
    from rich.progress import Progress

    from redline.evals.results import EvalResult
    from redline.evals.series import Axis, CheckpointResults
    from redline.evals.trend import XScale
    from redline.scale.evals import Plan

SuiteOpt = Annotated[
    list[str],
    typer.Option("--suite", "-s", help="Suite name or suite file (.yaml/.jsonl), repeatable. "
                 "See `redline list suites`."),
]
SizeOpt = Annotated[
    int | None,
    typer.Option("--size", "-n", help="Samples per suite (default: the suite's).", min=1),
]
SeedOpt = Annotated[int, typer.Option(help="Seed of the suites' dataset factories.")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Target option key=value (repeatable)."),
]
ExecutorOpt = Annotated[str, typer.Option(
    help="'local' (this process) or 'ray' (units on a Ray cluster, every sample in the store, "
    "resumable by running the same command again; pip install 'redline[scale]').")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="A running Ray cluster for --executor ray (HOST:PORT of its head, "
    "ray://HOST:10001 or auto); default: start a local one on this machine's CPUs.")]


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)


def on_ray(plan: Plan, address: str | None) -> list[list[EvalResult]]:
    """Run an eval plan on Ray, with progress from the store; each job's results."""
    from redline.scale import Cluster, run_plan
    from redline.scale.evals import workers_store

    store = workers_store()
    try:
        cluster = Cluster(address)
        try:
            err_console.print(f"run {plan.run_id} in {store.url} on {cluster.cpus} Ray CPU(s); "
                              "if stopped, the same command resumes it", highlight=False)
            with _progress() as bar:
                task = bar.add_task("samples stored", total=None)
                return run_plan(plan, cluster, store, progress=lambda done, total: bar.update(
                    task, completed=done, total=total))
        finally:
            cluster.close()
    finally:
        store.close()


def check_executor(executor: str, ray_address: str | None) -> None:
    """Reject an unknown executor, or a Ray address without the Ray executor."""
    from redline.errors import ConfigError

    if executor not in ("local", "ray"):
        raise ConfigError(f"--executor must be 'local' or 'ray', not '{executor}'.")
    if ray_address is not None and executor != "ray":
        raise ConfigError("--ray-address needs --executor ray.")


def print_results(results: list[EvalResult]) -> None:
    """A table of every metric with its 95% interval."""
    from rich.table import Table

    table = Table(title="eval results (95% intervals)")
    for column in ("suite", "metric", "value", "95% CI", "n", "run"):
        table.add_column(column, overflow="fold")
    for r in results:
        for name, m in r.metrics.items():
            interval = "n/a" if not m.defined else f"[{m.low:.3f}, {m.high:.3f}]"
            value = "n/a" if m.value is None else f"{m.value:.3f}"
            status = "ok" if r.status == "ok" else f"[red]failed[/]: {r.error}"
            table.add_row(f"{r.suite} {r.suite_version}", name, value, interval, str(m.n), status)
    console.print(table)
    for r in results:
        if r.measures or r.data:
            console.print(f"[bold]{r.suite}[/] {r.measures} [dim]Data: {r.data}[/]",
                          highlight=False)


def eval_command(
    target: Annotated[str, typer.Argument(help="Target spec, e.g. organism:helpful, hf:/path.")],
    suite: SuiteOpt,
    size: SizeOpt = None,
    seed: SeedOpt = 0,
    out: Annotated[Path, typer.Option(help="Folder for the result files (SUITE.json).")] = Path(
        "redline-results"
    ),
    model: Annotated[Path | None, typer.Option(
        help="Model files to digest into the results (default: the target's own folder).")] = None,
    option: OptionOpt = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Bypass the response cache.")
    ] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Run eval suites on a target and print each metric with its 95% interval."""
    from redline.attest.digest import digest_model
    from redline.evals import get_suite, run_suites
    from redline.evals.runner import model_path_of
    from redline.targets import resolve_target

    check_executor(executor, ray_address)
    chosen = [get_suite(name) for name in suite]
    if executor == "ray":
        from redline.scale import eval_plan

        plan = eval_plan(target, suite, seed=seed, size=size, options=parse_options(option),
                         cache=not no_cache, model=model)
        _report(on_ray(plan, ray_address)[0], out)
        return
    model_target = resolve_target(target, cache=False if no_cache else None,
                                  **parse_options(option))
    files = model or model_path_of(model_target)
    digest = digest_model(files).sha256 if files is not None else None

    async def go() -> list[EvalResult]:
        try:
            with _progress() as bar:
                total = sum((size or s.default_size or 0) for s in chosen) or None
                task = bar.add_task(f"evaluating {target}", total=total)
                return await run_suites(model_target, chosen, seed=seed, size=size,
                                        model_digest=digest,
                                        progress=lambda k: bar.advance(task, k))
        finally:
            await model_target.aclose()

    _report(run(go()), out)


def _report(results: list[EvalResult], out: Path) -> None:
    print_results(results)
    for r in results:
        written = r.save(out / f"{r.suite}.json")
        err_console.print(f"wrote {written}", highlight=False)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


_AXES: dict[str, Axis] = {"step": "step", "compute": "compute"}
_SCALES: dict[str, XScale | None] = {"log": "log", "linear": "linear", "auto": None}


def eval_series_command(
    checkpoints: Annotated[str, typer.Argument(
        help="Folder of checkpoints (sub-folders or series.json) or a glob, e.g. 'run/ckpt-*'.")],
    suite: SuiteOpt,
    size: SizeOpt = None,
    seed: SeedOpt = 0,
    axis: Annotated[str, typer.Option(help="Fit against 'step' or 'compute'.")] = "step",
    scale: Annotated[str, typer.Option(help="'log', 'linear' or 'auto' x axis.")] = "auto",
    window: Annotated[int, typer.Option(
        help="Fit each forecast to this many preceding checkpoints (0: all of them).",
        min=0)] = 4,
    policy: Annotated[Path | None, typer.Option(
        help="Release policy whose alert values are watched (default: redline's).")] = None,
    spec: Annotated[str, typer.Option(
        help="Target spec of a checkpoint; {path}, {name} and {step} are filled in."
    )] = "hf:{path}",
    out: Annotated[Path, typer.Option(help="Folder for series.json and report.html.")] = Path(
        "redline-series"
    ),
    option: OptionOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Evaluate checkpoints in training order, fit trends and flag capability jumps."""
    from redline.errors import ConfigError
    from redline.evals import (
        analyse_series,
        discover_checkpoints,
        get_suite,
        run_series,
        run_suites,
    )
    from redline.evals.series import Checkpoint
    from redline.policy import load_policy
    from redline.report import render_series_report
    from redline.targets import resolve_target

    if axis not in _AXES:
        raise ConfigError(f"--axis must be 'step' or 'compute', not '{axis}'.")
    if scale not in _SCALES:
        raise ConfigError(f"--scale must be 'log', 'linear' or 'auto', not '{scale}'.")
    check_executor(executor, ray_address)
    chosen = [get_suite(name) for name in suite]
    found = discover_checkpoints(checkpoints)
    alerts = load_policy(policy).alerts()
    options = parse_options(option)

    async def go() -> list[CheckpointResults]:
        with _progress() as bar:
            task = bar.add_task("checkpoints", total=len(found))

            async def evaluate(checkpoint: Checkpoint) -> list[EvalResult]:
                bar.update(task, description=f"checkpoint {checkpoint.name}")
                made = spec.format(path=checkpoint.path, name=checkpoint.name, step=checkpoint.step)
                target = resolve_target(made, cache=False, **options)
                try:
                    return await run_suites(target, chosen, seed=seed, size=size)
                finally:
                    await target.aclose()

            return await run_series(found, evaluate, on_checkpoint=lambda _: bar.advance(task))

    if executor == "ray":
        from redline.scale import series_plan, series_runs

        specs = [(c, spec.format(path=c.path, name=c.name, step=c.step)) for c in found]
        plan = series_plan(specs, suite, seed=seed, size=size, options=options)
        runs = series_runs(found, on_ray(plan, ray_address))
    else:
        runs = run(go())
    if window in (1, 2):
        raise ConfigError("--window must be 0 (all) or at least 3.")
    series = analyse_series(runs, axis=_AXES[axis], scale=_SCALES[scale], alerts=alerts,
                            window=window or None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "series.json").write_text(series.model_dump_json(indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_series_report(series), encoding="utf-8")
    for flag in series.jumps:
        console.print(f"[red]jump[/] {flag.message}", highlight=False)
    if not series.jumps:
        console.print("no capability jump flagged", highlight=False)
    alerted: dict[str, list[int]] = {}
    for flag in series.flags:
        if flag.kind == "alert":
            alerted.setdefault(f"{flag.suite}/{flag.metric}", []).append(flag.step)
    for key, steps in alerted.items():
        console.print(f"[yellow]alert[/] {key} cannot rule out its alert value from step "
                      f"{steps[0]} ({len(steps)} checkpoint(s))", highlight=False)
    err_console.print(f"wrote {out / 'series.json'} and {out / 'report.html'}", highlight=False)


def list_suites() -> None:
    """List the registered eval suites with their version, scorers and metrics."""
    from redline.evals import suites

    for s in suites():
        console.print(f"[bold]{s.name}[/] {s.version}  {s.summary}", highlight=False)
        if s.data:
            console.print(f"    data: {s.data}", highlight=False, markup=False)
        console.print(f"    scorers: {', '.join(r.name for r in s.scorers)}", highlight=False)
        console.print(f"    metrics: {', '.join(m.name for m in s.metrics)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``eval``, ``eval-series`` and ``list suites`` to the CLI."""
    from redline.cli.app import list_app

    app.command("eval")(eval_command)
    app.command("eval-series")(eval_series_command)
    list_app.command("suites")(list_suites)
