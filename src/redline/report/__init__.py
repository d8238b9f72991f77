"""Reports: self-contained HTML with inline SVG plots."""

from redline.report.bundle import CaseFiles, write_case_files
from redline.report.html import page, render_case_report, render_series_report, results_table
from redline.report.svg import interval_chart, trend_plot

__all__ = [
    "CaseFiles",
    "interval_chart",
    "page",
    "render_case_report",
    "render_series_report",
    "results_table",
    "trend_plot",
    "write_case_files",
]
