"""Share findings: redacted, signed bundles in open formats, and regression suites from them."""

from redline.share.bundle import (
    Bundle,
    BundleManifest,
    ProbeDefinition,
    SharedFinding,
    read_bundle,
    redact_text,
    write_bundle,
)
from redline.share.collect import Shared, collect, from_case, from_run
from redline.share.regression import regression_suite, write_suite

__all__ = [
    "Bundle",
    "BundleManifest",
    "ProbeDefinition",
    "Shared",
    "SharedFinding",
    "collect",
    "from_case",
    "from_run",
    "read_bundle",
    "redact_text",
    "regression_suite",
    "write_bundle",
    "write_suite",
]
