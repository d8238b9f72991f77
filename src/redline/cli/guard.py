"""``redline guard``: the checking proxy, its keys and policy; ``redline log``: its event log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from redline.cli.app import OptionOpt
from redline.cli.common import console, err_console, parse_options
from redline.cli.telemetry import CaptureContentOpt, OtlpEndpointOpt, telemetry_for
from redline.errors import ConfigError

# No help= here: the callback's docstring is the help of `redline guard`.
guard_app = typer.Typer(invoke_without_command=True)
keys_app = typer.Typer(help="Client API keys of the guard (stored hashed).", no_args_is_help=True)
policy_app = typer.Typer(help="The usage policy the guard enforces.", no_args_is_help=True)
log_app = typer.Typer(help="The guard's hash-chained event log.", no_args_is_help=True)
guard_app.add_typer(keys_app, name="keys")
guard_app.add_typer(policy_app, name="policy")

KeysOpt = Annotated[Path | None, typer.Option(
    "--keys", help="Client keys file (default $REDLINE_HOME/guard-keys.json).")]


@guard_app.callback()
def guard(
    ctx: typer.Context,
    upstream: Annotated[str | None, typer.Option(
        "--upstream", "-u", help="The model to guard, as a target spec (mock, hf:PATH, "
        "openai:URL#MODEL, organism:NAME).")] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="Usage policy YAML (default: the shipped default policy).")] = None,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port to listen on.",
                                      min=1, max=65535)] = 8080,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 exposes it.")] = "127.0.0.1",
    keys: KeysOpt = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Accept requests without an API key (local testing only).")] = False,
    log: Annotated[Path | None, typer.Option(
        "--log", help="Event log file (default $REDLINE_HOME/guard/events.log).")] = None,
    signing_key: Annotated[Path | None, typer.Option(
        "--signing-key", help="ed25519 key that signs log checkpoints (created if missing; "
        "default $REDLINE_HOME/keys/log-signing.key).")] = None,
    checkpoint_every: Annotated[int, typer.Option(
        help="Events between signed checkpoints.", min=1)] = 1000,
    db: Annotated[str | None, typer.Option(
        "--db", help="Store URL for events (default REDLINE_DB or the SQLite file).")] = None,
    no_store: Annotated[bool, typer.Option(
        "--no-store", help="Write events to the log only, not to the store.")] = False,
    model_name: Annotated[str | None, typer.Option(
        "--model-name", help="Model id to report (default: the upstream spec).")] = None,
    request_timeout: Annotated[float, typer.Option(
        help="Seconds the upstream may take per answer (504 after).", min=0.1)] = 300.0,
    replica: Annotated[str | None, typer.Option(
        "--replica", help="This guard's name among replicas behind one load balancer; "
        "recorded in its events and log (default log $REDLINE_HOME/guard/events-NAME.log). "
        "Replicas share one --db, where per-minute key limits are counted.")] = None,
    option: OptionOpt = None,
    otlp_endpoint: OtlpEndpointOpt = None,
    otel_capture_content: CaptureContentOpt = False,
    metrics: Annotated[bool, typer.Option(
        "--metrics", help="Serve Prometheus metrics at /metrics, on the guard's own address "
        "(needs redline[otel]).")] = False,
) -> None:
    """Serve the guard proxy: redline guard --upstream TARGET --policy usage.yaml --port P.

    Clients talk to http://HOST:PORT/v1 as to any OpenAI-compatible API, with a key from
    `redline guard keys add NAME`. Every request is checked against the policy and
    recorded in the event log and the store. OpenAPI docs are at /docs. Ctrl-C stops it
    (after a final signed checkpoint).
    """
    if ctx.invoked_subcommand is not None:
        return
    if upstream is None:
        raise ConfigError(
            "Give the model to guard with --upstream, e.g. `redline guard --upstream mock "
            "--no-auth`. See `redline guard --help`."
        )
    from redline.errors import require

    require("fastapi", extra="guard", feature="redline guard")
    require("uvicorn", extra="guard", feature="redline guard")
    from redline import paths
    from redline.guard.auth import (
        Authenticator,
        SharedWindows,
        default_keys_path,
        load_keys,
    )
    from redline.guard.eventlog import EventLog
    from redline.guard.policy import load_policy
    from redline.guard.proxy import Guard, GuardConfig, create_guard_app
    from redline.guard.signing import load_or_create_signer
    from redline.guard.sink import EventSink
    from redline.serve.server import run_server
    from redline.targets import resolve_target

    usage = load_policy(policy)
    keys_path = keys or default_keys_path()
    key_file = load_keys(keys_path)
    if not key_file.keys and not no_auth:
        raise ConfigError(
            f"No client keys in {keys_path}. Add one with `redline guard keys add NAME`, or "
            "pass --no-auth to accept anonymous requests (local testing only)."
        )
    if replica is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", replica):
        raise ConfigError(f"--replica must be 1-64 letters, digits, '_', '.' or '-', got "
                          f"'{replica}'.")
    store = None
    if not no_store:
        from redline.store import Store

        store = Store(db)
    windows = SharedWindows(store) if store is not None else None
    auth = None if no_auth else Authenticator(key_file, windows=windows)
    target = resolve_target(upstream, cache=False, **parse_options(option))
    signer = load_or_create_signer(signing_key)
    log_name = "events.log" if replica is None else f"events-{replica}.log"
    log_path = log or paths.home() / "guard" / log_name
    sink = EventSink(EventLog(log_path, signer, checkpoint_every=checkpoint_every,
                              replica=replica), store)
    config = GuardConfig(model_name=model_name, request_timeout=request_timeout,
                         replica=replica)
    try:
        guard_metrics = None
        if metrics:
            from redline.guard.metrics import GuardMetrics

            guard_metrics = GuardMetrics()
        guard_ = Guard(target, usage, sink, auth=auth, config=config, metrics=guard_metrics,
                       telemetry=telemetry_for("redline.guard", otlp_endpoint,
                                               otel_capture_content))
        guard_.checker.warm()  # load the encoder now, not inside the first request's timeout
    except BaseException:
        sink.close()
        raise
    app = create_guard_app(guard_)
    layers = ", ".join(f"{la.spec.name}({la.spec.kind})" for la in guard_.checker.layers)
    err_console.print(
        f"{'' if replica is None else f'Replica [bold]{replica}[/]: '}"
        f"Guarding [bold]{target.spec}[/] at http://{host}:{port}/v1 with policy "
        f"[bold]{usage.name} {usage.revision}[/] ({usage.sha256[:12]}); "
        f"layers: {layers or 'none'}.\n"
        f"Events: {log_path} (signing key {signer.key_id})"
        f"{'' if store is None else ' and the store'}. "
        f"Auth: {'off' if auth is None else f'{len(key_file.keys)} client key(s)'}. Ctrl-C stops.",
        highlight=False,
    )
    import gc

    # Startup's objects (FastAPI's routes, pydantic schemas, the policy) leave the cyclic
    # collector's scans: a full collection over them paused requests for tens of ms.
    gc.freeze()
    run_server(app, host=host, port=port, log_level="warning")


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="The client's name, recorded in events.")],
    rate: Annotated[float, typer.Option(help="Requests per second on average (0: unlimited).",
                                        min=0.0)] = 10.0,
    burst: Annotated[int, typer.Option(help="Most requests at once above the average.",
                                       min=1)] = 20,
    per_minute: Annotated[int, typer.Option(
        "--per-minute", help="Requests per minute across all guard replicas, counted in "
        "the store (0: none).", min=0)] = 0,
    keys: KeysOpt = None,
) -> None:
    """Make an API key for a client; the key is printed once and only its hash is kept."""
    from redline.guard.auth import add_key, default_keys_path

    path = keys or default_keys_path()
    key = add_key(path, name, rate=rate, burst=burst, per_minute=per_minute)
    err_console.print(f"Key for [bold]{name}[/] stored hashed in {path}. It is shown once:",
                      highlight=False)
    console.print(key, markup=False, highlight=False)


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The client whose key to remove.")],
    keys: KeysOpt = None,
) -> None:
    """Remove a client's key (takes effect when the guard restarts)."""
    from redline.guard.auth import default_keys_path, revoke_key

    path = keys or default_keys_path()
    revoke_key(path, name)
    err_console.print(f"Revoked the key of {name} in {path}.", highlight=False)


@keys_app.command("list")
def keys_list(keys: KeysOpt = None) -> None:
    """List clients with their rate limits (never the keys)."""
    from redline.guard.auth import default_keys_path, load_keys

    path = keys or default_keys_path()
    found = load_keys(path).keys
    if not found:
        err_console.print(f"No client keys in {path}.", highlight=False)
    for key in found:
        shared = f" per-minute {key.per_minute}" if key.per_minute else ""
        console.print(f"{key.name:<24} rate {key.rate:g}/s burst {key.burst}{shared}  "
                      f"created {key.created}  sha256 {key.sha256[:12]}…", highlight=False)


@policy_app.command("init")
def policy_init(
    path: Annotated[Path, typer.Argument(help="Where to write the policy.")] = Path("usage.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the documented default usage policy, to edit."""
    from redline.guard.policy import DEFAULT_POLICY

    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it.")
    path.write_text(DEFAULT_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    err_console.print(f"Wrote the default usage policy to {path}.", highlight=False)


@policy_app.command("show")
def policy_show(
    path: Annotated[Path | None, typer.Argument(help="Policy file (default: the shipped one).")]
    = None,
) -> None:
    """Validate a usage policy and print its identity, categories and layers."""
    from redline.guard.policy import load_policy

    usage = load_policy(path)
    console.print(f"[bold]{usage.name}[/] revision {usage.revision}  sha256 {usage.sha256}",
                  highlight=False)
    for name, category in usage.categories.items():
        console.print(f"  {name:<12} {category.action:<6} {category.description}",
                      highlight=False)
    for layer in usage.layers:
        state = "on " if layer.enabled else "off"
        console.print(f"  layer {layer.name:<10} {layer.kind:<10} {state} "
                      f"stages={','.join(layer.stages)} timeout={layer.timeout_ms:g}ms "
                      f"fail={layer.fail}", highlight=False)


@log_app.command("verify")
def log_verify(
    paths_: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="Event log file(s): one per guard replica.")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="PEM public key (.pub) the checkpoints must be signed with. "
        "Without it the key named in each log is trusted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Check each log's hash chain and signed checkpoints; exit 1 if any was edited or cut."""
    import json

    from redline.guard.eventlog import verify_log
    from redline.guard.signing import load_public_key

    key = load_public_key(public_key) if public_key is not None else None
    reports = [(path, verify_log(path, key, key_source=str(public_key) if public_key else ""))
               for path in paths_]
    if as_json:
        found = [{"path": str(path), **report.model_dump()} for path, report in reports]
        console.print_json(json.dumps(found[0] if len(found) == 1 else found))
    for path, report in reports:
        if as_json:
            pass
        elif report.ok:
            whose = f" (replica {', '.join(report.replicas)})" if report.replicas else ""
            console.print(
                f"[green]OK[/] {path}{whose}: {report.events} events in {report.records} "
                f"records, {report.checkpoints} signed checkpoint(s); {report.signed_events} "
                f"events signed, {report.unsigned_tail} record(s) after the last checkpoint. "
                f"Key: {', '.join(report.key_ids) or '-'} ({report.trusted_key}).",
                highlight=False)
        else:
            err_console.print(f"[bold red]FAILED[/] {path}: {report.problem}", highlight=False)
    if not all(report.ok for _, report in reports):
        raise typer.Exit(1)


@log_app.command("ingest")
def log_ingest(
    path: Annotated[Path, typer.Argument(help="The event log file.")],
    db: Annotated[str | None, typer.Option(
        "--db", help="Store URL (default REDLINE_DB or the SQLite file).")] = None,
) -> None:
    """Copy a log's events into the store (events already there are skipped)."""
    from rich.progress import Progress

    from redline.guard.eventlog import iter_records
    from redline.guard.events import parse_event
    from redline.guard.sink import store_row
    from redline.store import Store

    store = Store(db)
    added = seen = 0
    batch: list[dict[str, object]] = []
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("ingesting", total=None)
        for record in iter_records(path):
            if record.type != "event":
                continue
            batch.append(store_row(parse_event(record.body), record.hash))
            seen += 1
            if len(batch) >= 1000:
                added += store.ingest_events(batch)
                batch = []
                progress.update(task, completed=seen)
        added += store.ingest_events(batch)
    store.close()
    err_console.print(f"{seen} events read, {added} added to the store.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``guard`` and ``log`` to the root command."""
    app.add_typer(guard_app, name="guard")
    app.add_typer(log_app, name="log")
