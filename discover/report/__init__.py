"""Reports: the results folder, LaTeX / HTML / Markdown reports, figures, text summaries."""

from ._bundle import Results as Results, load_results as load_results
from ._documents import write_reports as write_reports
from ._gate import write_gate_results as write_gate_results
from ._latex import document_latex as document_latex
from ._results import (
    candidate_record as candidate_record,
    check_output_dir as check_output_dir,
    summary_text as summary_text,
    write_folder as write_folder,
    write_results as write_results,
)
from ._text import equations_text as equations_text, metrics_table as metrics_table

__all__ = [
    "Results", "candidate_record", "check_output_dir", "document_latex", "equations_text", "load_results",
    "metrics_table", "summary_text", "write_folder", "write_gate_results", "write_reports", "write_results",
]
