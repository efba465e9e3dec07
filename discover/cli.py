"""Command line: `discover demo`, `discover run CONFIG`, `discover report DIR`, `discover export DIR --to ...`."""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from ._choices import DEMO_OUT, EXPORT_TARGETS
from ._errors import ConfigError, DiscoverError

if TYPE_CHECKING:
    from ._config import RunConfig
    from ._population import PopulationConfig

# The pipeline's modules (torch, sympy, matplotlib: seconds to import) are imported where a command needs
# them, so `--help`, `--version` and argument errors answer at once.


def _printer(quiet: bool):
    """`print` for progress lines, or nothing with --quiet."""
    return (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))


def _run(config: RunConfig, out: str | None, force: bool, quiet: bool, resume: bool = False) -> int:
    from ._run import run_config
    from .report import check_output_dir, summary_text, write_results

    out_dir = Path(out) if out else Path(config.output)
    check_output_dir(out_dir, force)  # before minutes of training, not after
    # training state lives beside the results folder until the run succeeds, so an interrupted
    # run can continue with --resume; the results folder itself is only ever written whole
    checkpoint = out_dir.parent / f".{out_dir.name}.checkpoint" / "ude.pt"
    if resume and not checkpoint.is_file():
        print(f"discover: no checkpoint at {checkpoint}; starting from the beginning", file=sys.stderr)
    say = _printer(quiet)
    try:
        result = run_config(config, progress=not quiet, training={"checkpoint": str(checkpoint), "resume": resume},
                            say=say)
    except KeyboardInterrupt:
        saved = f"training state is saved in {checkpoint.parent}/; " if checkpoint.is_file() else ""
        print(f"\ndiscover: interrupted; {saved}nothing was written to {out_dir}. Run the same command with "
              "--resume to continue.", file=sys.stderr)
        return 130
    path = write_results(result, out_dir, force=force)
    shutil.rmtree(checkpoint.parent, ignore_errors=True)
    print(summary_text(result))
    print(f"\nResults written to {path}/: report.html, report.md, report.tex (pdflatex), figures/, "
          "equations.json, metrics.json")
    return 0


def _run_gate(config: RunConfig, out: str | None, force: bool, quiet: bool) -> int:
    from ._gate_run import gate_summary, run_gate
    from .report import check_output_dir, write_gate_results

    out_dir = Path(out) if out else Path(config.output)
    check_output_dir(out_dir, force)  # before minutes of training, not after
    try:
        run = run_gate(config, progress=not quiet, say=_printer(quiet))
    except KeyboardInterrupt:
        print(f"\ndiscover: interrupted; nothing was written to {out_dir}.", file=sys.stderr)
        return 130
    path = write_gate_results(run.estimator, run.distilled, out_dir, heldout=run.metrics, data=run.heldout,
                              predictions=run.predictions, force=force)
    print(gate_summary(run))
    print(f"\nResults written to {path}/: report.html, report.md, report.tex (pdflatex), figures/, "
          "equations.json, metrics.json")
    return 0


def _run_population(config: PopulationConfig, out: str | None, force: bool, quiet: bool) -> int:
    from ._population import run_population
    from .report import check_output_dir

    out_dir = Path(out) if out else Path(config.output)
    check_output_dir(out_dir, force)  # before minutes of training, not after
    say = _printer(quiet)
    try:
        path = run_population(config, out_dir, force=force, progress=not quiet, say=say)
    except KeyboardInterrupt:
        print(f"\ndiscover: interrupted; nothing was written to {out_dir}.", file=sys.stderr)
        return 130
    print((path / "summary.txt").read_text().rstrip())
    print(f"\nResults written to {path}/: report.html, report.md, report.tex (pdflatex), figures/, "
          "equations.json, metrics.json")
    return 0


def _batch(args) -> int:
    from ._config import load_config
    from .batch import run_batch

    config = load_config(args.config)
    result = run_batch(config, args.inputs, args.out or config.output, scheduler=args.scheduler,
                       workers=args.workers, force=args.force, say=_printer(args.quiet))
    print(f"{len(result.rows) - len(result.failed)} of {len(result.rows)} cells finished; summary in "
          f"{result.out / 'summary.csv'}, {result.out / 'terms.csv'} and {result.out / 'summary.html'}")
    if result.failed:
        print(f"failed: {', '.join(result.failed)} (see {result.out / 'logs'}/)", file=sys.stderr)
    return 1 if result.failed else 0


def _report(folder: str, force: bool, quiet: bool) -> int:
    from .report import write_reports

    written = write_reports(folder, force=force)
    if not quiet:
        print("Wrote " + ", ".join(str(p) for p in written) + f" and {Path(folder) / 'figures'}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line, also read by the docs (command-line reference) and the docs' snippet test."""
    parser = argparse.ArgumentParser(
        prog="discover", description="Discover the governing equations of neurons from recordings."
    )
    parser.add_argument("--version", action="version", version=f"discover {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="recover FitzHugh–Nagumo's cubic term from simulated data "
                                       "(20-30 s on 2 cores)")
    demo.add_argument("--out", help=f"results folder (default: {DEMO_OUT})")
    run = sub.add_parser("run", help="run the pipeline from a TOML config (see examples/fitzhugh_nagumo.toml; "
                         "examples/lorenz_population.toml for spike counts)")
    run.add_argument("config", help="path to the TOML config")
    batch = sub.add_parser("batch", help="run a config on many recordings in parallel (Dask), with a summary table")
    batch.add_argument("config", help="path to the TOML config; its [data] path is replaced by each input")
    batch.add_argument("--inputs", nargs="+", required=True, metavar="PATTERN",
                       help="recordings, as files or quoted glob patterns, e.g. 'cells/*.nwb'")
    batch.add_argument("--out", help="batch folder (default: the config's [output] directory)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    batch.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    batch.add_argument("--force", action="store_true", help="re-run cells that already have results")
    batch.add_argument("--quiet", action="store_true", help="print only the final summary line")
    report = sub.add_parser("report",
                            help="(re)build report.html, report.md, report.tex and figures of a results folder")
    report.add_argument("results", help="a results folder written by `discover run` or `discover demo`")
    report.add_argument("--force", action="store_true", help="replace reports already in the folder")
    report.add_argument("--quiet", action="store_true", help="print nothing on success")
    export = sub.add_parser("export", help=f"write the discovered model for {', '.join(EXPORT_TARGETS)} (or all)")
    export.add_argument("results", help="a results folder written by `discover run` or `discover demo`")
    export.add_argument("--to", nargs="+", default=["all"], metavar="TARGET",
                        help=f"one or more of {', '.join(EXPORT_TARGETS)}, or all (default)")
    export.add_argument("--force", action="store_true", help="replace exported files already there")
    run.add_argument("--out", help="results folder (default: the config's [output] directory)")
    for p in (demo, run):
        p.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
        p.add_argument("--quiet", action="store_true", help="no progress output, only the summary")
        p.add_argument("--resume", action="store_true",
                       help="continue an interrupted run from its checkpoint (same config and --out)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "batch":
            return _batch(args)
        if args.command == "report":
            return _report(args.results, args.force, args.quiet)
        if args.command == "export":
            from .export import export_results

            for path in export_results(args.results, args.to, force=args.force):
                print(f"wrote {path}")
            return 0
        from ._config import DEMO_CONFIG, config_from_dict, load_config
        from ._population import PopulationConfig

        config = config_from_dict(copy.deepcopy(DEMO_CONFIG)) if args.command == "demo" else load_config(args.config)
        if isinstance(config, PopulationConfig):
            if args.resume:
                raise ConfigError("--resume continues an interrupted UDE training; a [population] run has no "
                                  "checkpoint yet: run it again without --resume.")
            return _run_population(config, args.out, args.force, args.quiet)
        if config.gate is not None:
            if args.resume:
                raise ConfigError("--resume continues an interrupted UDE training; a [gate] run has no checkpoint: "
                                  "run it again without --resume.")
            return _run_gate(config, args.out, args.force, args.quiet)
        return _run(config, args.out, args.force, args.quiet, args.resume)
    except DiscoverError as exc:
        print(f"discover: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
