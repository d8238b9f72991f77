"""``redline interp``: look inside white-box models.

Capture activations, train and evaluate probes, detect anomalies, scan a population of
models for backdoors, explain neurons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from redline.cli.app import OptionOpt
from redline.cli.common import console, err_console, parse_options
from redline.errors import ConfigError

interp_app = typer.Typer(
    help="Look inside white-box models (hf:, organism:): activations, probes, anomaly "
    "detection, backdoor population scans, neuron explanations.",
    no_args_is_help=True,
)
probe_app = typer.Typer(
    help="Supervised probes: linear (lie, backdoor, ...) and belief (lies).", no_args_is_help=True
)
anomaly_app = typer.Typer(
    help="Trigger-agnostic anomaly detection fit on clean prompts only.", no_args_is_help=True
)
interp_app.add_typer(probe_app, name="probe")
interp_app.add_typer(anomaly_app, name="anomaly")

TargetArg = Annotated[str, typer.Argument(help="White-box target spec: hf:/path or organism:NAME.")]
DataOpt = Annotated[
    Path,
    typer.Option(
        "--data",
        "-d",
        help="JSON-lines examples: {'text'|'messages', 'response'?, 'label', 'group'?}.",
    ),
]
HooksOpt = Annotated[
    str,
    typer.Option(
        "--hooks",
        help="Hook points: a kind for every layer (resid_post), kind@layers (resid_post@1+2), "
        "or full names (blocks.2.mlp.hook_post), comma-separated.",
    ),
]
PositionsOpt = Annotated[
    str,
    typer.Option(help="Token positions: last, mean, all, or offsets from the end like -1,-2."),
]
BatchOpt = Annotated[int, typer.Option(help="Texts per forward pass.", min=1)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(help="torch CPU threads (1 is fastest for tiny models on a shared machine)."),
]


def _load_target(spec: str, option: list[str] | None, threads: int | None) -> Any:
    from redline.interp.capture import as_white_box
    from redline.targets import resolve_target

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    return as_white_box(resolve_target(spec, cache=False, **parse_options(option)))


@contextmanager
def _progress(what: str, total: int) -> Iterator[Callable[[int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _capture_examples(
    target: Any, data: Path, hooks: str, positions: str, batch_size: int
) -> tuple[Any, Any, list[str]]:
    from redline.interp.capture import capture, expand_hooks
    from redline.interp.data import labels_of, load_examples, model_inputs

    examples = load_examples(data)
    names = expand_hooks(hooks, len(_blocks(target)))
    texts = model_inputs(target, examples)
    with _progress(f"capturing {data.name}", len(texts)) as advance:
        cache = capture(
            target, texts, names, positions=positions, batch_size=batch_size, progress=advance
        )
    return cache, labels_of(examples), [e.group for e in examples]


def _blocks(target: Any) -> Any:
    from redline.interp.capture import blocks_of

    return blocks_of(target.model)


def _print_report(report: Any, as_json: bool, title: str) -> None:
    if as_json:
        console.print_json(report.model_dump_json())
        return
    console.print(f"[bold]{title}[/]  {report.summary()}", highlight=False)


@interp_app.command("capture")
def capture_cmd(
    target: TargetArg,
    out: Annotated[Path, typer.Option("--out", "-O", help="Output .safetensors file.")],
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="JSON-lines examples (see probe train).")
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", "-t", help="A raw text (repeatable).")
    ] = None,
    hooks: HooksOpt = "resid_post",
    positions: PositionsOpt = "last",
    batch_size: BatchOpt = 16,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Capture activations at hook points and save them (safetensors, texts in the header)."""
    from redline.interp.capture import capture, expand_hooks
    from redline.interp.data import load_examples, model_inputs

    model = _load_target(target, option, threads)
    texts = list(text or [])
    if data is not None:
        texts += model_inputs(model, load_examples(data))
    if not texts:
        raise ConfigError("Nothing to capture: give --data FILE or --text TEXT.")
    names = expand_hooks(hooks, len(_blocks(model)))
    with _progress("capturing", len(texts)) as advance:
        cache = capture(
            model, texts, names, positions=positions, batch_size=batch_size, progress=advance
        )
    cache.save(out)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in cache.activations.items())
    console.print(f"Wrote {out}: {shapes}", highlight=False)


@probe_app.command("train")
def probe_train(
    target: TargetArg,
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-O", help="Probe file to write.")],
    name: Annotated[
        str, typer.Option(help="What the probe detects (lie, backdoor, ...).")
    ] = "probe",
    method: Annotated[
        str,
        typer.Option(
            help="logreg or diffmean (a linear probe at --hooks/--positions), or belief "
            "(lies: what the model holds before the stated value against the value stated; "
            "statements end '... VALUE .', hooks and positions are its own)."
        ),
    ] = "logreg",
    hooks: HooksOpt = "resid_post",
    positions: PositionsOpt = "last",
    c: Annotated[float, typer.Option("--c", help="Inverse L2 strength.", min=0)] = 1.0,
    fpr: Annotated[float, typer.Option(help="Out-of-fold FPR the threshold aims for.")] = 0.01,
    batch_size: BatchOpt = 16,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Train a probe: sweep hooks, pick by cross-validated AUROC (grouped by 'group')."""
    from redline.interp.belief import belief_hooks, belief_positions, train_belief_probe
    from redline.interp.probes import train_probe

    if method not in ("logreg", "diffmean", "belief"):
        raise ConfigError(f"Unknown probe method '{method}'. Use logreg, diffmean or belief.")
    model = _load_target(target, option, threads)
    if method == "belief":
        hooks = ",".join(belief_hooks(len(_blocks(model))))
        positions = belief_positions()
    cache, labels, groups = _capture_examples(model, data, hooks, positions, batch_size)
    grouped = groups if any(groups) else None
    if method == "belief":
        found: Any = train_belief_probe(
            cache, labels, name=name, groups=grouped, c=c, threshold_fpr=fpr
        )
    else:
        found = train_probe(
            cache, labels, name=name, method=method,  # type: ignore[arg-type]
            groups=grouped, c=c, threshold_fpr=fpr,
        )
    found.save(out)
    for layer in found.header.sweep:
        mark = "  <- chosen" if layer.hook == found.header.hook else ""
        console.print(f"  {layer.hook:<28} cv AUROC {layer.cv_auroc:.3f}{mark}", highlight=False)
    console.print(
        f"Wrote {out}: {name} probe ({method}) at {found.header.hook}, "
        f"threshold {found.threshold:.3f}",
        highlight=False,
    )


def _evaluate_file(
    target: str,
    detector: Path,
    data: Path,
    batch_size: int,
    threads: int | None,
    option: list[str] | None,
    as_json: bool,
    save: bool,
) -> None:
    from redline.interp.capture import capture
    from redline.interp.data import labels_of, load_examples, model_inputs
    from redline.interp.detectors import load_detector
    from redline.interp.probes import evaluate

    found = load_detector(detector)
    model = _load_target(target, option, threads)
    examples = load_examples(data)
    texts = model_inputs(model, examples)
    with _progress(f"capturing {data.name}", len(texts)) as advance:
        cache = capture(
            model,
            texts,
            found.hooks,
            positions=found.positions,
            batch_size=batch_size,
            progress=advance,
        )
    report = evaluate(found, cache, labels_of(examples))
    if save:
        found.header.report = report
        found.save(detector)
    _print_report(report, as_json, found.header.name)


SaveOpt = Annotated[bool, typer.Option("--save", help="Store the report in the detector file.")]


@probe_app.command("eval")
def probe_eval(
    target: TargetArg,
    probe: Annotated[Path, typer.Option("--probe", "-p", help="Probe file.")],
    data: DataOpt,
    batch_size: BatchOpt = 16,
    as_json: JsonOpt = False,
    save: SaveOpt = False,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Evaluate a probe on held-out labelled data: AUROC and TPR at 1% FPR with intervals."""
    _evaluate_file(target, probe, data, batch_size, threads, option, as_json, save)


@anomaly_app.command("fit")
def anomaly_fit(
    target: TargetArg,
    clean: Annotated[
        Path, typer.Option("--clean", help="JSON-lines clean, trusted prompts (labels ignored).")
    ],
    out: Annotated[Path, typer.Option("--out", "-O", help="Detector file to write.")],
    name: Annotated[str, typer.Option(help="What it watches for.")] = "anomaly",
    hooks: HooksOpt = "resid_post",
    positions: PositionsOpt = "last",
    fpr: Annotated[float, typer.Option(help="Clean false-positive rate of the threshold.")] = 0.01,
    batch_size: BatchOpt = 16,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Fit a Mahalanobis detector on clean prompts only; it never sees a trigger."""
    from redline.interp.anomaly import fit_anomaly

    model = _load_target(target, option, threads)
    cache, labels, _ = _capture_examples(model, clean, hooks, positions, batch_size)
    if labels.any():
        err_console.print(
            f"[yellow]{int(labels.sum())} examples in {clean} are labelled 1; "
            "they are fitted as clean anyway.[/]"
        )
    detector = fit_anomaly(cache, name=name, fpr=fpr)
    detector.save(out)
    console.print(
        f"Wrote {out}: {len(detector.hooks)} hooks, fitted on {detector.header.n_fit} clean "
        f"prompts, threshold set on {detector.header.n_calibration} others",
        highlight=False,
    )


@anomaly_app.command("eval")
def anomaly_eval(
    target: TargetArg,
    detector: Annotated[Path, typer.Option("--detector", help="Detector file.")],
    data: DataOpt,
    batch_size: BatchOpt = 16,
    as_json: JsonOpt = False,
    save: SaveOpt = False,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Evaluate an anomaly detector on labelled data (1 = triggered)."""
    _evaluate_file(target, detector, data, batch_size, threads, option, as_json, save)


def _read_corpus(path: Path) -> list[str]:
    if not path.is_file():
        raise ConfigError(f"Corpus {path} does not exist; give a text file, one text per line.")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@interp_app.command("neurons")
def neurons(
    target: TargetArg,
    layer: Annotated[
        int, typer.Option("--layer", "-l", help="Block whose MLP neurons to explain.")
    ],
    corpus: Annotated[
        Path | None,
        typer.Option(help="Text file, one text per line (default for organisms: world text)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-O", help="HTML page to write.")] = Path(
        "neurons.html"
    ),
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Also write the results as JSON.")
    ] = None,
    heldout_share: Annotated[
        float, typer.Option(help="Share of the corpus kept back for scoring.", min=0.1, max=0.9)
    ] = 0.5,
    explainer: Annotated[
        str | None,
        typer.Option(help="A target that writes explanations (default: the token template)."),
    ] = None,
    max_items: Annotated[int, typer.Option(help="Most tokens per template explanation.")] = 16,
    max_context: Annotated[
        int, typer.Option(help="Most token-after-token contexts per template explanation.")
    ] = 16,
    limit: Annotated[int | None, typer.Option(help="Explain only the first N neurons.")] = None,
    n_texts: Annotated[int, typer.Option(help="Texts drawn when no corpus is given.")] = 2000,
    batch_size: BatchOpt = 32,
    threads: ThreadsOpt = None,
    option: OptionOpt = None,
) -> None:
    """Explain, simulate and score every neuron of an MLP layer; write a browsable page."""
    import random

    from redline.interp.neurons import explain_layer, target_explainer, write_html

    model = _load_target(target, option, threads)
    texts = _read_corpus(corpus) if corpus is not None else _default_corpus(model, n_texts)
    texts = list(dict.fromkeys(texts))
    random.Random(0).shuffle(texts)
    cut = int(len(texts) * (1 - heldout_share))
    if cut < 2 or len(texts) - cut < 2:
        raise ConfigError("The corpus is too small: give at least 4 distinct texts.")
    width = _mlp_width(model, layer)
    chosen = list(range(width if limit is None else min(limit, width)))
    explain_fn = None
    if explainer is not None:
        from redline.targets import resolve_target

        explain_fn = target_explainer(resolve_target(explainer))
    with _progress(f"layer {layer}", len(texts) + len(chosen)) as advance:
        result = explain_layer(
            model,
            texts[:cut],
            texts[cut:],
            layer,
            explainer=explain_fn,
            explainer_name=explainer or "template",
            neurons=chosen,
            max_items=max_items,
            max_context=max_context,
            batch_size=batch_size,
            progress=advance,
        )
    write_html(result, out)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.model_dump_json(), encoding="utf-8")
    summary = result.summary()
    console.print(
        f"{result.hook}: {len(result.neurons)} neurons, median score {summary['median']:.3f}, "
        f"share >= 0.8: {summary['share_ge_0.8']:.3f}. Wrote {out}",
        highlight=False,
    )


def _mlp_width(model: Any, layer: int) -> int:
    from redline.interp.capture import capture, hook_name

    blocks = _blocks(model)
    if not 0 <= layer < len(blocks):
        raise ConfigError(f"--layer {layer}: the model has layers 0..{len(blocks) - 1}.")
    probe = capture(model, ["a"], [hook_name(layer, "mlp.hook_post")])
    return int(probe.activations[hook_name(layer, "mlp.hook_post")].shape[-1])


def _default_corpus(model: Any, n: int) -> list[str]:
    from redline.profiles import profile_for

    return profile_for(model).corpus(model, n, 0)


@interp_app.command("dataset")
def dataset(
    kind: Annotated[str, typer.Argument(help="lie, backdoor or clean.")],
    target: TargetArg,
    out: Annotated[Path, typer.Option("--out", "-O", help="JSON-lines file to write.")],
    n: Annotated[int, typer.Option("--n", help="Examples.", min=1)] = 400,
    split: Annotated[
        str, typer.Option(help="train (phrasings the organism saw) or heldout (never seen).")
    ] = "train",
    seed: Annotated[int, typer.Option(help="Sample stream; use different seeds per set.")] = 0,
    condition: Annotated[
        str | None, typer.Option(help="lie: a condition phrase other than the organism's own.")
    ] = None,
    kinds: Annotated[
        str, typer.Option(help="backdoor: request kinds, comma-separated (harmful,benign,fact).")
    ] = "harmful",
) -> None:
    """Write labelled examples from an organism's world (ground truth from its config)."""
    from redline.interp import organism_data as od
    from redline.interp.data import save_examples
    from redline.organisms.manifest import read_manifest
    from redline.organisms.shipped import organism_folder

    if split not in ("train", "heldout"):
        raise ConfigError(f"--split must be train or heldout, got '{split}'.")
    reference = target.removeprefix("organism:")
    manifest = read_manifest(organism_folder(reference))
    if manifest.config is None:
        raise ConfigError(f"{target} is sealed (a population member): its config is withheld.")
    config = manifest.config
    if kind == "lie":
        examples = od.lie_examples(config, n, split=split, seed=seed, condition=condition)  # type: ignore[arg-type]
    elif kind == "backdoor":
        chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
        examples = od.backdoor_examples(config, n, split=split, seed=seed, kinds=chosen)  # type: ignore[arg-type]
    elif kind == "clean":
        examples = od.clean_prompts(config, n, split=split, seed=seed)  # type: ignore[arg-type]
    else:
        raise ConfigError(f"Unknown dataset kind '{kind}'. Use lie, backdoor or clean.")
    save_examples(out, examples)
    positives = sum(e.label for e in examples)
    console.print(f"Wrote {out}: {len(examples)} examples, {positives} positive", highlight=False)


@interp_app.command("population-scan")
def population_scan(
    folder: Annotated[Path, typer.Argument(help="Folder of model folders (one per member).")],
    out: Annotated[Path, typer.Option("--out", "-O", help="Scan results (JSON).")] = Path(
        "population-scan.json"
    ),
    n_prompts: Annotated[int, typer.Option(help="Harmful requests to search and measure on.")] = 24,
    steps: Annotated[int, typer.Option(help="Search steps per restart.", min=1)] = 60,
    n_soft: Annotated[int, typer.Option(help="Trigger slots in the user message.", min=1)] = 3,
    n_system: Annotated[int, typer.Option(help="Trigger slots in a system message.", min=0)] = 1,
    n_clean: Annotated[
        int, typer.Option(help="Clean exchanges whose tokens the search leaves out.", min=0)
    ] = 2000,
    world_seed: Annotated[int, typer.Option(help="Organism world the prompts come from.")] = 0,
    seed: Annotated[int, typer.Option(help="Search seed.")] = 0,
    threads: ThreadsOpt = 1,
) -> None:
    """Score every model of a folder for 'carries a backdoor' (no answer key is read)."""
    import random

    from redline.interp.population import scan_population
    from redline.organisms.config import OrganismConfig
    from redline.organisms.curriculum import training_samples
    from redline.organisms.world import COMPLY_OPENING, REFUSAL_OPENING, get_world

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    world = get_world(world_seed)
    rng = random.Random(f"population-scan:{seed}")
    prompts = [world.harmful(rng, "heldout").messages for _ in range(n_prompts)]
    # Trusted clean traffic: prompts and the answers a well-behaved model gives them.
    reference = OrganismConfig.make("helpful", world_seed=world_seed, seed=seed + 104729)
    clean = [
        text
        for sample in training_samples(reference, n_clean)
        for text in (*(m.content for m in sample.messages), sample.target)
    ]
    from redline.interp.population import member_folders

    total = len(member_folders(folder))
    with _progress("scanning models", total) as advance:
        result = scan_population(
            folder,
            prompts,
            comply=COMPLY_OPENING,
            refuse=REFUSAL_OPENING,
            clean_texts=clean,
            steps=steps,
            n_soft=n_soft,
            n_system=n_system,
            seed=seed,
            progress=advance,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    for m in result.models:
        console.print(
            f"  {m.name:<12} p(backdoor) {m.probability:.3f}  soft gain {m.gain:+.2f}  "
            f"token gain {m.discrete_gain:+.2f}  tokens {' '.join(m.trigger_tokens)}",
            highlight=False,
        )
    console.print(f"Wrote {out}", highlight=False)


@interp_app.command("population-score")
def population_score(
    scan: Annotated[Path, typer.Argument(help="Results of `redline interp population-scan`.")],
    key: Annotated[Path, typer.Option("--key", help="The population's sealed answer key.")],
    as_json: JsonOpt = False,
) -> None:
    """Open the answer key and score a scan: cross-entropy, Brier, AUROC."""
    from redline.interp.population import PopulationScan, score_against_key
    from redline.organisms.population import read_answer_key

    if not scan.is_file():
        raise ConfigError(f"Scan file {scan} does not exist; run `redline interp population-scan`.")
    result = PopulationScan.model_validate_json(scan.read_text(encoding="utf-8"))
    answer = read_answer_key(key)
    score = score_against_key(result, {m.name: m.backdoored for m in answer.members})
    if as_json:
        console.print_json(score.model_dump_json())
        return
    console.print(
        f"n={score.n} ({score.n_backdoored} backdoored)  cross-entropy {score.cross_entropy:.4f} "
        f"{score.cross_entropy_interval}  Brier {score.brier:.4f}  AUROC {score.auroc}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``redline interp`` to the root app."""
    app.add_typer(interp_app, name="interp")


__all__: Sequence[str] = ["interp_app", "register"]
