"""The run report: stats histograms and a self-contained `report.html` (see `render`)."""

from htlm.pipeline.report.histograms import histogram, log_edges, merge_histograms
from htlm.pipeline.report.render import render_report, write_report

__all__ = ["histogram", "log_edges", "merge_histograms", "render_report", "write_report"]
