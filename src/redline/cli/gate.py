"""``redline gate``, ``redline verify``, ``redline keys`` and ``redline policy``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from redline import paths
from redline.cli.common import console, err_console, print_raw

if TYPE_CHECKING:
    from pydantic import BaseModel

    from redline.attest.case import VerifyReport
    from redline.gate.decide import Safeguards, Verdict

M = TypeVar("M", bound="BaseModel")

keys_app = typer.Typer(help="Signing keys for safety cases (ed25519).", no_args_is_help=True)
policy_app = typer.Typer(help="Release policies: check and show.", no_args_is_help=True)

PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", help="Release policy YAML (default: redline's default release policy).")]

_COLOUR = {"GO": "green", "GO_WITH_SAFEGUARDS": "yellow", "NO_GO": "red",
           "INCONCLUSIVE": "magenta"}


def default_key() -> Path:
    """``$REDLINE_HOME/keys/redline.key``."""
    return paths.home() / "keys" / "redline.key"


def _load_model(path: Path, model: type[M], what: str) -> M:
    import yaml
    from pydantic import ValidationError

    from redline.errors import ConfigError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data)
    except FileNotFoundError as exc:
        raise ConfigError(f"No {what} file at {path}.") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path} is not a valid {what} file: {str(exc).splitlines()[0]}") from exc


def load_safeguards(path: Path | None) -> Safeguards:
    """The safeguards file (YAML or JSON), or none in place."""
    from redline.gate.decide import Safeguards

    if path is None:
        return Safeguards()
    return _load_model(path, Safeguards, "safeguards")


def print_verdict(verdict: Verdict) -> None:
    """The decision and its reasons, decisive first."""
    colour = _COLOUR[verdict.decision]
    console.print(f"[bold {colour}]{verdict.decision}[/]  policy {verdict.policy_name} "
                  f"{verdict.policy_version} ({verdict.policy_digest[:12]})", highlight=False)
    for reason in verdict.reasons:
        style = "dim" if reason.code in ("ruled_out", "crossed_safeguarded") else ""
        text = f"  - {reason.code}: {reason.message}"
        console.print(f"[{style}]{text}[/]" if style else text, highlight=False, markup=bool(style))


AssuranceOpt = Annotated[Path | None, typer.Option(
    help="Assurance table (YAML) to decide with instead of redline's "
    "(src/redline/policy/assurance.yaml), e.g. redline's plus your judge's recall measured on "
    "labelled answers of your model (`redline scorers judge-recall` prints the entries); it is "
    "signed into the case.")]


def gate_command(
    results: Annotated[list[Path] | None, typer.Argument(
        help="Eval result files or folders of them (from `redline eval --out`).")] = None,
    policy: PolicyOpt = None,
    from_inspect: Annotated[list[Path] | None, typer.Option(
        "--from-inspect", help="Inspect eval log (.eval/.json) read as eval results "
        "(repeatable; docs/inspect.md).")] = None,
    inspect_map: Annotated[Path | None, typer.Option(
        help="Mapping of Inspect metrics to the policy's suite/metric names (YAML); not "
        "needed for tasks from `redline export inspect`.")] = None,
    safeguards: Annotated[Path | None, typer.Option(
        help="YAML/JSON of safeguards in place: guard_layers, monitoring, redteam_passed, "
        "named.")] = None,
    model: Annotated[Path | None, typer.Option(
        help="The model's files; their sha256 is the case's subject.")] = None,
    target: Annotated[str | None, typer.Option(
        help="Target spec the results came from (named in the case).")] = None,
    findings: Annotated[Path | None, typer.Option(
        help="JSON list of findings to include.")] = None,
    redteam: Annotated[Path | None, typer.Option(
        help="report.json of `redline redteam --out DIR`; its findings are included.")
    ] = None,
    series: Annotated[Path | None, typer.Option(
        help="series.json from `redline eval-series`, plotted in the report.")] = None,
    key: Annotated[Path | None, typer.Option(
        help="Private signing key (default $REDLINE_HOME/keys/redline.key).")] = None,
    assurance: AssuranceOpt = None,
    out: Annotated[Path, typer.Option(help="Folder for case.dsse.json, report.html, "
                                      "findings.avid.json.")] = Path("redline-case"),
) -> None:
    """Decide GO / GO_WITH_SAFEGUARDS / NO_GO / INCONCLUSIVE and write a signed safety case.

    Exits 0 when the verdict releases the model and 1 when it does not.
    """
    import json

    from pydantic import TypeAdapter, ValidationError

    from redline.attest import Finding, build_case, load_private_key, model_digest_for
    from redline.errors import ConfigError
    from redline.evals import SeriesResult, load_results
    from redline.policy import load_assurance, load_policy
    from redline.report import write_case_files

    table = load_assurance(assurance) if assurance is not None else None
    loaded = load_results(results or [])
    if from_inspect:
        from redline.interop.inspect_log import load_mapping, results_from_inspect

        mapping = load_mapping(inspect_map) if inspect_map is not None else None
        loaded += [r for log in from_inspect for r in results_from_inspect(log, mapping)]
    if not loaded:
        raise ConfigError("No eval results given; run `redline eval TARGET --suite NAME` first.")
    extra: list[Finding] = []
    if findings is not None:
        try:
            extra = TypeAdapter(list[Finding]).validate_python(
                json.loads(findings.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            raise ConfigError(f"{findings} is not a JSON list of findings: {exc}") from exc
    if redteam is not None:
        from redline.attest.findings import findings_from_redteam
        from redline.redteam.report import RedteamReport

        try:
            report = RedteamReport.model_validate_json(redteam.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{redteam} is not a red-team report: {exc}") from exc
        extra += findings_from_redteam(report)
    spec = target or loaded[0].target
    digest = model_digest_for(model, spec)
    case = build_case(load_policy(policy), loaded, digest, now=datetime.now(UTC),
                      safeguards=load_safeguards(safeguards), findings=extra, target=spec,
                      assurance=table)
    plotted = None
    if series is not None:
        try:
            plotted = SeriesResult.model_validate_json(series.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{series} is not a series.json of `redline eval-series`.") from exc
    files = write_case_files(case, out, load_private_key(key or default_key()), series=plotted)
    print_verdict(case.verdict)
    err_console.print(f"wrote {files.envelope}, {files.report}, {files.avid}", highlight=False)
    if not case.verdict.releases:
        raise typer.Exit(1)


def print_verification(report: VerifyReport) -> None:
    """Each check with pass/FAIL."""
    for check in report.checks:
        mark = "[green]pass[/]" if check.ok else "[bold red]FAIL[/]"
        console.print(f"{mark} {check.name}: ", end="", highlight=False)
        console.print(check.detail, markup=False, highlight=False)


def verify_command(
    case: Annotated[Path, typer.Argument(help="The signed case (case.dsse.json).")],
    key: Annotated[Path, typer.Option(help="The signer's public key (.pub).")],
    model: Annotated[Path | None, typer.Option(
        help="The model's files, checked against the case's subject digest.")] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="The release policy you expect the case to use.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check a safety case: signature, subject digest, policy digest, and the verdict recomputed.

    Without --model the case is checked, but not that it is about the files you have: a
    warning says so. Exits 0 when every check passes and 1 otherwise.
    """
    import json

    from redline.attest import load_public_key, read_envelope, verify_case
    from redline.policy import load_policy

    expected = load_policy(policy) if policy is not None else None
    report = verify_case(read_envelope(case), load_public_key(key), model_path=model,
                         expected_policy=expected)
    warnings = [] if model is not None else [
        "the model files were NOT checked: this says the case is intact, not that it is "
        "about the model you have; pass --model PATH to check its files against the "
        "case's subject digest"]
    if as_json:
        print_raw(json.dumps({
            "ok": report.ok, "model_checked": model is not None, "warnings": warnings,
            "decision": report.case.verdict.decision if report.case else None,
            "checks": [c.model_dump() for c in report.checks]}, indent=2) + "\n")
    else:
        print_verification(report)
        for warning in warnings:
            err_console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    if report.ok and report.case is not None:
        if not as_json:
            unchecked = "" if model is not None else " (model files not checked)"
            console.print(f"[bold green]verified[/]: {report.case.verdict.decision} for "
                          f"{report.case.model.name}{unchecked}", highlight=False)
        return
    if not as_json:
        console.print("[bold red]NOT verified[/]", highlight=False)
    raise typer.Exit(1)


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path | None, typer.Option(
        help="Folder for NAME.key (mode 0600) and NAME.pub (default $REDLINE_HOME/keys).")] = None,
    name: Annotated[str, typer.Option(help="File name stem.")] = "redline",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key pair.")] = False,
) -> None:
    """Make an ed25519 key pair for signing safety cases."""
    from redline.attest import generate_keys

    private, public = generate_keys(out or default_key().parent, name, force=force)
    console.print(f"private key: {private} (mode 0600, keep it secret)", highlight=False)
    console.print(f"public key:  {public} (give this to verifiers)", highlight=False)


@policy_app.command("check")
def policy_check(
    file: Annotated[Path | None, typer.Argument(help="Policy YAML (default: redline's).")] = None,
) -> None:
    """Validate a release policy and print its version, digest and thresholds."""
    from redline.policy import load_policy

    loaded = load_policy(file)
    console.print(f"[bold]{loaded.name}[/] {loaded.version}  sha256 {loaded.digest()}",
                  highlight=False)
    for domain in loaded.domains:
        for t in domain.thresholds:
            level = f" level {t.level}" if t.level else ""
            evals = ", ".join(
                f"{e.suite}/{e.metric} out<{e.rule_out} in>={e.rule_in}"
                if e.direction == "higher_is_worse"
                else f"{e.suite}/{e.metric} out>{e.rule_out} in<={e.rule_in}"
                for e in t.evals
            )
            sure = ""
            if t.assurance is not None:
                what = "judge recall" if t.assurance.reads == "judge" else "assurance"
                sure = (f"; ruled out only with {what} {t.assurance.bound} >= "
                        f"{t.assurance.required:g} for {', '.join(t.assurance.classes)}")
                if t.assurance.reads == "judge":
                    sure += " and the rate below rule-out with the judge's misses counted"
            console.print(f"  {domain.id}/{t.id}: {t.response}{level} — {evals}{sure}",
                          highlight=False)


@policy_app.command("show")
def policy_show(
    file: Annotated[Path | None, typer.Argument(help="Policy YAML (default: redline's).")] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="Show a target profile's default policy instead (real-language, "
                     "organism)."),
    ] = None,
) -> None:
    """Print a release policy's YAML, exactly (the default one when no file is given).

    `redline policy show > my-policy.yaml` gives a file to edit and pass with --policy.
    """
    from redline.policy import DEFAULT_POLICY, load_policy
    from redline.profiles import get_profile

    path = file or (get_profile(profile).policy if profile else DEFAULT_POLICY)
    load_policy(path)
    print_raw(path.read_text(encoding="utf-8"))


def register(app: typer.Typer) -> None:
    """Add ``gate``, ``verify``, ``keys`` and ``policy`` to the CLI."""
    app.command("gate")(gate_command)
    app.command("verify")(verify_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(policy_app, name="policy")
