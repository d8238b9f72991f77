"""``redline scorers``: validate, train, try and redact with the scorers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console, err_console, parse_options, run

scorers_app = typer.Typer(
    help="Scorers with measured accuracy: validate them, rebuild their heads, try them.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Scorer name; see `redline list scorers`.")]
ConfigOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-o",
        help="Scorer argument key=value (repeatable): -o threshold=0.6, -o target=openai:URL#M.",
    ),
]


def _config(pairs: list[str] | None) -> dict[str, object]:
    config: dict[str, object] = {}
    for key, value in parse_options(pairs).items():
        try:
            config[key] = json.loads(value)
        except ValueError:
            config[key] = value
    return config


@scorers_app.command()
def validate(
    name: NameArg,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Labelled JSONL or CSV (prompt, response, label or outcome; other fields "
            "ignored); default: the shipped validation set."
        ),
    ] = None,
    option: ConfigOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Decision threshold (default: the scorer's own)."),
    ] = None,
    misses: Annotated[
        int, typer.Option(min=0, help="Print this many of the worst misses.")
    ] = 0,
    sweep: Annotated[
        bool, typer.Option(help="Print precision, recall and F1 at thresholds 0.05..0.95.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (misses included).")
    ] = False,
) -> None:
    """Print precision, recall, F1 and false-positive rate with bootstrap 95% intervals."""
    from rich.progress import Progress
    from rich.table import Table

    from redline.scorers.validation import validate as run_validation

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task(f"scoring with {name}", total=None)
        config = _config(option)
        if threshold is not None:
            config["threshold"] = threshold
        report = run_validation(
            name,
            data,
            config=config,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            misses=max(misses, 20) if as_json else misses,
        )
    for warning in report.warnings:
        err_console.print(f"[yellow]warning[/]: {warning}", highlight=False)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{report.scorer}[/] on {report.data}: {report.n} items, "
        f"{report.unscored} unscored, {report.seconds:.1f} s",
        highlight=False,
    )
    table = Table("metric", "value", "95% interval (bootstrap)")
    for key in ("precision", "recall", "f1", "fpr"):
        m = report.metrics[key]
        table.add_row(key, f"{m['value']:.3f}", f"[{m['low']:.3f}, {m['high']:.3f}]")
    if report.category_accuracy is not None:
        c = report.category_accuracy
        table.add_row(
            "category accuracy", f"{c.value:.3f}", f"[{c.low:.3f}, {c.high:.3f}] (Wilson)"
        )
    console.print(table)
    console.print(
        f"calibration: Brier {report.brier:.3f}, expected calibration error {report.ece:.3f}",
        highlight=False,
    )
    slices = Table("slice", "n", "flagged (negatives)", "flagged (positives)")
    for s in report.slices:
        cells = []
        for rate in (s.positive_rate_on_negatives, s.positive_rate_on_positives):
            cells.append(
                "-" if rate is None else f"{rate.value:.2f} [{rate.low:.2f}, {rate.high:.2f}]"
            )
        n = sum(r.n for r in (s.positive_rate_on_negatives, s.positive_rate_on_positives) if r)
        slices.add_row(s.tag, str(n), *cells)
    if report.slices:
        console.print(slices)
    if sweep:
        table = Table("threshold", "precision", "recall", "F1", "FPR")
        for row in report.sweep:
            table.add_row(
                f"{row.threshold:.2f}", f"{row.precision:.3f}", f"{row.recall:.3f}",
                f"{row.f1:.3f}", f"{row.fpr:.3f}",
            )  # fmt: skip
        console.print(table)
    for miss in report.misses[:misses]:
        expected = "positive" if miss.label else "negative"
        console.print(
            f"\n[bold]missed[/] (label {expected}, value {miss.value:.3f}, {miss.explanation})",
            highlight=False,
        )
        console.print(f"  prompt:   {miss.prompt[:300]}", markup=False, highlight=False)
        if miss.response is not None:
            shown = miss.response[:500].replace("\n", " / ")
            console.print(f"  response: {shown}", markup=False, highlight=False)


@scorers_app.command()
def train(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Heads to rebuild (default: all learned scorers)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds the data generator and the CV split.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Write heads and training sets here instead of the package."),
    ] = None,
    refit_head: Annotated[
        bool,
        typer.Option(
            "--refit-head",
            help="outcome only: keep the fine-tuned encoder and refit the linear head, its "
            "temperature and thresholds (minutes instead of over an hour).",
        ),
    ] = False,
    calibrate_on: Annotated[
        list[Path] | None,
        typer.Option(
            "--calibrate-on",
            help="With --refit-head: labelled answers (JSONL or CSV with prompt, response, "
            "outcome, request_harmful) to choose the thresholds on too, each file counted as "
            "one part beside the left-out files (repeatable); never fitted on.",
        ),
    ] = None,
) -> None:
    """Rebuild the training sets and heads of the learned scorers, reproducibly from a seed."""
    from rich.progress import Progress

    from redline.errors import ConfigError
    from redline.scorers.training import ALIASES, LEARNED
    from redline.scorers.training import train as train_head

    chosen = list(dict.fromkeys(ALIASES.get(n, n) for n in (names or LEARNED)))
    unknown = [n for n in chosen if n not in LEARNED]
    if unknown:
        raise ConfigError(
            f"No trained head for {', '.join(unknown)}. Trainable: {', '.join(LEARNED)}."
        )
    if refit_head and chosen != ["outcome"]:
        raise ConfigError(
            "--refit-head applies to the outcome head alone: "
            "run `redline scorers train outcome --refit-head`."
        )
    if calibrate_on and not refit_head:
        raise ConfigError(
            "--calibrate-on applies to the outcome head's refit: add --refit-head "
            "(`redline scorers train outcome --refit-head --calibrate-on FILE`)."
        )
    with Progress(console=err_console) as bar:
        task = bar.add_task("training heads", total=len(chosen))
        for name in chosen:
            bar.update(task, description=f"training {name}")
            if refit_head:
                from redline.scorers.outcome_training import refit_outcome

                head = refit_outcome(
                    seed=seed,
                    folder=out,
                    calibrate_on=calibrate_on or (),
                    progress=lambda line: bar.console.print(line),
                )
            else:
                head = train_head(
                    name, seed=seed, folder=out, progress=lambda line: bar.console.print(line)
                )
            bar.advance(task)
            made = head.provenance
            scores = made.cv_f1_by_scorer or {name: made.cv_f1}
            thresholds = head.thresholds or {name: head.threshold}
            for scorer_name, f1 in scores.items():
                fit = made.recipe or f"C={made.regularisation_c}"
                console.print(
                    f"{scorer_name} ({name} head): {made.train_size} examples, {fit}, "
                    f"threshold {thresholds[scorer_name]}, F1 {f1:.3f} on {made.threshold_from}",
                    highlight=False,
                )


@scorers_app.command()
def score(
    name: NameArg,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt.")] = "",
    response: Annotated[
        str | None, typer.Option("--response", "-r", help="The response, if any.")
    ] = None,
    option: ConfigOpt = None,
) -> None:
    """Score one exchange and print the judgement."""
    from redline.scorers import ScoreInput, get_scorer

    result = run(get_scorer(name, **_config(option))(ScoreInput.of(prompt, response)))
    if not result.scored:
        console.print(f"[yellow]unscored[/]: {result.explanation}", highlight=False)
        return
    category = f"  category={result.category}" if result.category else ""
    console.print(
        f"{name}: label={result.label} value={result.value:.3f}{category}  ({result.explanation})",
        highlight=False,
    )


@scorers_app.command()
def redact(
    text: Annotated[str | None, typer.Argument(help="Text to clean; default: read stdin.")] = None,
    secrets_only: Annotated[bool, typer.Option(help="Only credentials, not PII.")] = False,
) -> None:
    """Replace personal data and credentials with placeholders such as [EMAIL]."""
    import sys

    from redline.scorers.pii import Kind
    from redline.scorers.pii import redact as redact_text

    source = sys.stdin.read() if text is None else text
    groups: tuple[Kind, ...] = ("secret",) if secrets_only else ("pii", "secret")
    console.print(redact_text(source, groups=groups), markup=False, highlight=False, end="")
    if not source.endswith("\n"):
        console.print()


@scorers_app.command("judge-recall")
def judge_recall(
    data: Annotated[
        list[Path] | None,
        typer.Argument(help="Labelled answers (JSONL or CSV with prompt, response, outcome, "
                       "request_harmful) the judge never read; default: redline's labelled "
                       "real answers of SmolLM2-135M-Instruct."),
    ] = None,
    profile: Annotated[
        str, typer.Option(help="The audit profile the answers stand for (an entry applies "
                          "only to evidence of its profile).")
    ] = "real-language",
    out: Annotated[
        Path | None, typer.Option(help="Also write the entries to this YAML file.")
    ] = None,
) -> None:
    """Measure the judges' recall on harmful completions people labelled, as assurance entries.

    Counts how many labelled harmful completions harmful_compliance flags and refusal reads as
    not refused, and prints one assurance-table entry per reading; the gate reads such
    entries to decide how low a judge-read misuse rate really is (docs/gate.md).
    """
    from redline.organisms.population import write_atomic
    from redline.scorers.judge_recall import default_sets, entries_yaml, measure

    command = " ".join(["redline scorers judge-recall", *map(str, data or []),
                        *(["--profile", profile] if profile != "real-language" else [])])
    entries = measure(data or default_sets(), profile=profile, command=command,
                      progress=lambda line: err_console.print(line, highlight=False))
    text = entries_yaml(entries)
    console.print(text, markup=False, highlight=False, end="")
    if out is not None:
        write_atomic(out, text)
        err_console.print(f"wrote {out}", highlight=False)
