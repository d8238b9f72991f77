"""``redline share export`` and ``redline share import``: findings to and from other teams."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console, err_console

share_app = typer.Typer(
    help="Share findings as a redacted, signed bundle (AVID, OWASP LLM 2025, MITRE ATLAS), "
    "and turn a received bundle into a regression suite.",
    no_args_is_help=True,
)


@share_app.command("export")
def export_command(
    source: Annotated[str, typer.Argument(
        help="A safety case (case.dsse.json or its folder), a red-team report (report.json "
        "or its folder) or a red-team run id in the store.")],
    out: Annotated[Path, typer.Option(help="The bundle folder to write (must not exist).")],
    key: Annotated[Path | None, typer.Option(
        help="Private signing key (default $REDLINE_HOME/keys/redline.key).")] = None,
    include_outputs: Annotated[bool, typer.Option(
        "--include-outputs", help="Also share the model's replies (redacted).")] = False,
    model_name: Annotated[str | None, typer.Option(
        help="Name the model by this in the bundle instead of its target spec (which may "
        "hold an internal URL).")] = None,
    max_probes: Annotated[int, typer.Option(
        min=1, help="At most N probes per finding.")] = 20,
) -> None:
    """Write findings, their probes and AVID reports as a redacted bundle signed with KEY."""
    from redline.attest import load_private_key
    from redline.cli.gate import default_key
    from redline.share import BundleManifest, collect, write_bundle

    signing_key = load_private_key(key or default_key())
    shared = collect(source, max_probes=max_probes)
    name = model_name or shared.target
    findings = shared.findings
    if model_name:
        findings = [f.model_copy(update={
            "title": f.title.replace(shared.target, model_name),
            "description": f.description.replace(shared.target, model_name)})
            for f in findings]
    manifest = BundleManifest(
        source=shared.source, source_id=shared.source_id, model_name=name,
        created_at=datetime.now(UTC), include_outputs=include_outputs,
        findings=len(findings), probes=len(shared.probes))
    write_bundle(out, findings, shared.probes, manifest, signing_key)
    for finding_id in shared.unreproducible:
        err_console.print(f"note: no probe reproduces {finding_id} (its evidence was not "
                          "found); it is shared as a report only", highlight=False)
    outputs = "with redacted outputs" if include_outputs else "without outputs"
    console.print(f"wrote {out}: {len(findings)} findings, {len(shared.probes)} probes, "
                  f"{outputs}, signed", highlight=False)


@share_app.command("import")
def import_command(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder.")],
    key: Annotated[Path, typer.Option(help="The sender's public key (.pub).")],
    out: Annotated[Path | None, typer.Option(
        help="The regression suite file to write (default: BUNDLE-NAME.yaml here).")] = None,
    name: Annotated[str | None, typer.Option(help="The suite's name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing suite file.")
                     ] = False,
) -> None:
    """Verify a bundle's signature and write its probes as a suite `redline eval` runs.

    Exits 1 with one line saying what failed when the bundle does not verify.
    """
    from redline.attest import load_public_key
    from redline.share import read_bundle, regression_suite, write_suite

    verified = read_bundle(bundle, load_public_key(key))
    suite = regression_suite(verified, name=name)
    path = write_suite(suite, out or Path(f"{bundle.resolve().name}.yaml"), force=force)
    console.print(f"verified {bundle} ({verified.manifest.findings} findings from "
                  f"{verified.manifest.model_name}); wrote {path}: suite '{suite['name']}' "
                  f"with {len(suite['samples'])} probes", highlight=False)
    console.print(f"run it: redline eval TARGET --suite {path}", highlight=False)
