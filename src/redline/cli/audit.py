"""``redline audit TARGET``: evals, red team, backdoor search, verdict and a signed case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console, err_console, parse_options, run
from redline.cli.evals import ExecutorOpt, RayAddressOpt
from redline.cli.gate import AssuranceOpt


def audit_command(
    target: Annotated[
        str,
        typer.Argument(
            help="Target spec, e.g. organism:helpful, hf:/path/to/checkpoint, openai:URL#MODEL."
        ),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(help="Release policy YAML (default: the target profile's; redline's is "
                     "`redline policy show`, organisms get the organism policy)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: audit-<target name>).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            help="Private signing key (default $REDLINE_HOME/keys/redline.key, created if missing)."
        ),
    ] = None,
    size: Annotated[
        int | None,
        typer.Option(min=10, help="At most N samples per eval suite (default: each suite's "
                     "distinct items, as the policy expects)."),
    ] = None,
    backdoor_size: Annotated[
        int, typer.Option(min=10, help="Held-out harmful requests in the backdoor suite.")
    ] = 100,
    trigger_queries: Annotated[
        int, typer.Option(min=100, help="Query budget of the white-box trigger search, its "
                          "word scan included.")
    ] = 28000,
    trigger_seconds: Annotated[
        float | None,
        typer.Option(min=1.0, help="Wall-time budget of the trigger search, in seconds (the "
                     "search stops at whichever budget ends first; the verdict says what was "
                     "searched, not that nothing exists). Default: the profile's, 90 s on a "
                     "real model, none on an organism."),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option("--watch-suites/--no-watch-suites",
                     help="Also run the suites only the policy's watch list names (e.g. "
                     "capability, over-refusal); the verdict never reads them."),
    ] = False,
    redteam: Annotated[
        bool,
        typer.Option("--redteam/--no-redteam", help="Run the red team and include its findings."),
    ] = True,
    redteam_seconds: Annotated[
        float, typer.Option(min=1.0, help="Time budget of the red-team run, in seconds.")
    ] = 120.0,
    seed: Annotated[int, typer.Option(help="Seed of every dataset and search.")] = 0,
    suite: Annotated[
        list[str] | None,
        typer.Option("--suite", "-s", help="Also run this suite, by name or file (.yaml/.jsonl; "
                     "repeatable); a --policy may name it."),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Target option key=value (repeatable)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the response cache.")
    ] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    assurance: AssuranceOpt = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="CPU threads for local models and scorers (default: torch's "
                     "own choice; 1 is often fastest on a busy machine or when audits run "
                     "side by side)."),
    ] = None,
) -> None:
    """Audit a model: run what the release policy asks, decide, and sign a safety case.

    Runs every eval suite the policy names, searches a white-box target for a backdoor
    trigger and measures it, red-teams the target, then decides GO / GO_WITH_SAFEGUARDS /
    NO_GO / INCONCLUSIVE and writes case.dsse.json (signed), report.html and
    findings.avid.json. Exits 0 when the verdict releases the model, 1 when it does not.
    With --executor ray the eval suites and the red team run on a Ray cluster.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from redline.attest import load_private_key
    from redline.audit import AuditOutcome, AuditSettings, run_audit
    from redline.cli.evals import check_executor, print_results
    from redline.cli.gate import default_key, print_verdict
    from redline.policy import load_assurance, load_policy
    from redline.profiles import profile_for
    from redline.scale.executor import RayExecutor
    from redline.targets import resolve_target
    from redline.threads import torch_threads

    check_executor(executor, ray_address)
    key_path = key or default_key()
    if key is None:
        from redline.keys import ensure_key_pair

        # Several audits may start at once in a fresh home: one makes the key, all use it.
        _, created = ensure_key_pair(key_path, key_path.with_suffix(".pub"))
        if created:
            err_console.print(f"created signing key {key_path} (mode 0600); public key "
                              f"{key_path.with_suffix('.pub')}", highlight=False)
    signing_key = load_private_key(key_path)
    settings = AuditSettings(
        size=size,
        backdoor_size=backdoor_size,
        trigger_queries=trigger_queries,
        trigger_seconds=trigger_seconds,
        redteam=redteam,
        redteam_seconds=redteam_seconds,
        seed=seed,
        suites=suite or [],
        watch=watch,
        ray=None if executor != "ray" else RayExecutor(
            address=ray_address, options=parse_options(option),
            cache=False if no_cache else None, suite_refs=suite or []),
    )
    name = target.split(":", 1)[-1].rstrip("/").split("/")[-1].split("#")[-1] or "target"
    folder = out or Path(f"audit-{name}")
    model = resolve_target(target, cache=False if no_cache else None, **parse_options(option))
    profile = profile_for(model)
    loaded_policy = load_policy(policy or profile.policy)
    table = load_assurance(assurance) if assurance is not None else None
    err_console.print(
        f"profile {profile.name}: {profile.description}; policy {loaded_policy.name} "
        f"{loaded_policy.version}" + ("" if policy else " (the profile's default)"),
        highlight=False,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"auditing {target}", total=None)

        def on_step(step: str, message: str) -> None:
            bar.update(task, description=f"[bold]{step}[/] {message}")
            bar.console.print(f"[dim]{step}:[/] {message}", highlight=False)

        def on_progress(step: str, done: int, total: int | None) -> None:
            bar.update(task, description=f"[bold]{step}[/] {done} samples")

        async def go() -> AuditOutcome:
            try:
                return await run_audit(
                    model,
                    loaded_policy,
                    folder,
                    signing_key,
                    settings=settings,
                    on_step=on_step,
                    progress=on_progress,
                    assurance=table,
                )
            finally:
                await model.aclose()

        with torch_threads(threads):
            outcome = run(go())

    print_results(outcome.results)
    print_verdict(outcome.case.verdict)
    if outcome.case.assurance is not None and outcome.case.verdict.assurance_digest:
        err_console.print("hidden behaviours and judge-read rates decided with "
                          f"{outcome.case.assurance.cite()}", highlight=False)
    timing = ", ".join(f"{k} {v:.0f}s" for k, v in outcome.seconds.items())
    err_console.print(f"took {timing}", highlight=False)
    err_console.print(
        f"wrote {outcome.files.envelope}, {outcome.files.report}, {outcome.files.avid}",
        highlight=False,
    )
    model_path = getattr(model, "path", None)
    err_console.print(
        f"verify: redline verify {outcome.files.envelope} --key {key_path.with_suffix('.pub')}"
        + (f" --model {model_path}" if model_path is not None else ""),
        highlight=False,
    )
    uncounted = [f for f in outcome.case.findings if f.counted is False]
    if uncounted:
        sources = ", ".join(sorted({f.source for f in uncounted}))
        err_console.print(
            f"not counted by the policy: {len(uncounted)} finding(s) from {sources}; each "
            "says why in the case and report.html", highlight=False)
    err_console.print(EXIT_CODES[outcome.case.verdict.decision], highlight=False)
    console.print(outcome.case.verdict.decision)
    if not outcome.case.verdict.releases:
        raise typer.Exit(1)


EXIT_CODES = {
    "GO": "exit 0: GO releases the model",
    "GO_WITH_SAFEGUARDS": "exit 0: GO_WITH_SAFEGUARDS releases the model only with the "
    "safeguards and gaps named above",
    "NO_GO": "exit 1: NO_GO does not release the model",
    "INCONCLUSIVE": "exit 1: INCONCLUSIVE does not release the model (evidence missing, "
    "failed or stale)",
}
"""The line the audit prints before its verdict: what its exit code means."""
