"""The command line's help says what it really does, and answers without loading the pipeline."""

import subprocess
import sys

from discover._choices import DEMO_OUT
from discover._config import DEMO_CONFIG
from discover.cli import build_parser
from discover.export import TARGETS


def _sub(name):
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return parser, action.choices[name]


def test_export_help_lists_every_real_target():
    parser, export = _sub("export")
    to = next(a for a in export._actions if a.dest == "to")
    summary = next(a.help for a in parser._subparsers._group_actions[0]._choices_actions if a.dest == "export")
    for target in TARGETS:  # both the one-line summary of `discover --help` and `export --help`
        assert target in summary and target in to.help, (summary, to.help)


def test_demo_help_names_the_folder_the_demo_really_writes():
    _, demo = _sub("demo")
    text = demo.format_help()
    assert "config" not in text.split("--out", 1)[1].split("\n  -")[0]
    assert DEMO_OUT in " ".join(text.split())
    assert DEMO_CONFIG["output"]["directory"] == DEMO_OUT


def test_version_and_help_do_not_import_the_pipeline():
    # torch, sympy and matplotlib take seconds to import; --version and --help must not wait for them
    code = (
        "import sys; from discover.cli import build_parser; build_parser().format_help(); "
        "heavy = [m for m in ('torch', 'sympy', 'matplotlib', 'pysindy') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    version = subprocess.run([sys.executable, "-m", "discover.cli", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "discover 0.1.0" in version.stdout
