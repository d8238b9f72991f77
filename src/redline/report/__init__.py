"""Reports: self-contained HTML pages from one Jinja2 template set, with inline SVG plots."""

from redline.report.bundle import CaseFiles, write_case_files
from redline.report.html import (
    EvidenceLink,
    evidence_links,
    render_case_report,
    render_series_report,
)
from redline.report.svg import histogram, interval_chart, line_chart, trend_plot
from redline.report.templating import render

__all__ = [
    "CaseFiles",
    "EvidenceLink",
    "evidence_links",
    "histogram",
    "interval_chart",
    "line_chart",
    "render",
    "render_case_report",
    "render_series_report",
    "trend_plot",
    "write_case_files",
]
