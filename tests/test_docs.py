"""Every code snippet in docs/ is run or checked, so the documentation cannot drift from the code.

- ```python blocks run, in a scratch folder where `examples/` is at hand; a block that includes a
  file (`--8<-- "examples/x.py"`) names an example, which tests/test_examples.py runs instead;
- ```toml blocks go through the config loader (fragments on top of the demo's config);
- ```bash blocks: every `discover ...` line is parsed by the real command line, every script
  named exists, and the install line is the one .ci/run runs (CI then runs the demo itself).
The docs site itself is built with `mkdocs build --strict` by .ci/run.
"""

from __future__ import annotations

import copy
import re
import runpy
import shlex
import sys
from pathlib import Path

import pytest

from discover import config_from_dict
from discover._config import DEMO_CONFIG
from discover.cli import build_parser
from tests.helpers import golden_copy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)
INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.M)
SLOW = {"how-to/population.md#0"}  # trains a latent ODE (~6 s): run in the slow tier, which CI runs


def snippets(language: str) -> list:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for k, match in enumerate(m for m in FENCE.finditer(page.read_text()) if m.group(1) == language):
            name = f"{page.relative_to(DOCS)}#{k}"
            found.append(pytest.param(match.group(2), id=name, marks=[pytest.mark.slow] if name in SLOW else []))
    return found


def test_the_docs_have_snippets_of_each_kind():
    assert len(snippets("python")) >= 8 and len(snippets("toml")) >= 8 and len(snippets("bash")) >= 6


@pytest.mark.parametrize("code", snippets("python"))
def test_python_snippet_runs(code, tmp_path, monkeypatch):
    included = INCLUDE.findall(code)
    if included:  # the file itself is shown: it must be an example, which test_examples runs
        assert all(p.startswith("examples/") and (ROOT / p).is_file() for p in included), included
        return
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(code)
    runpy.run_path(str(script), run_name="__main__")


def _as_config(raw: dict) -> dict:
    """A config fragment on top of the demo's (a population config stands alone): its sections replace the
    demo's ([distill] tables merge);
    a new [model] or [cell] drops the demo's [residual], which belongs to the demo's model."""
    if "data" in raw and ("model" in raw or "cell" in raw) or "population" in raw:  # a whole config
        return raw
    config = copy.deepcopy(DEMO_CONFIG)
    if "model" in raw or "cell" in raw:
        config.pop("residual")
    if "cell" in raw:
        config.pop("model")
    for section, table in raw.items():
        if section == "distill":
            config["distill"] = {**config["distill"], **table}
        else:
            config[section] = table
    return config


@pytest.mark.parametrize("code", snippets("toml"))
def test_toml_snippet_is_a_valid_config(code):
    included = INCLUDE.findall(code)
    text = (ROOT / included[0]).read_text() if included else code
    base = (ROOT / included[0]).parent if included else ROOT / "examples"
    config_from_dict(_as_config(tomllib.loads(text)), base_dir=base)


@pytest.mark.parametrize("code", snippets("bash"))
def test_shell_snippet_names_real_commands(code, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    for line in code.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        if words[0] == "discover":
            try:
                build_parser().parse_args(words[1:])
            except SystemExit as exc:  # --help and --version exit 0; a bad command exits 2
                assert exc.code == 0, line
        elif words[:2] == ["python", "-m"]:  # a module of ours, run as a command
            import importlib.util

            assert importlib.util.find_spec(words[2]) is not None, f"no module {words[2]}: {line}"
        elif words[0] == "python":
            assert (ROOT / words[1]).is_file(), f"{words[1]} does not exist: {line}"
        elif words[:2] == ["pip", "install"]:
            assert line in (ROOT / ".ci" / "run").read_text(), f"CI does not install as the docs say: {line}"
        else:
            assert words[0] in {"git", "dask", "nrnivmodl", "pynml", "nestml", "pytest", "mkdocs"}, line


def test_ci_builds_the_docs_strictly_and_runs_getting_started():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "mkdocs build --strict" in ci
    assert 'pip install -e ".[dev]"' in ci and "discover demo" in ci
    page = (DOCS / "getting-started.md").read_text()
    assert 'pip install -e ".[dev]"' in page and "discover demo" in page


def test_config_reference_lists_every_key_the_loader_accepts():
    from discover._reference import config_reference, sections
    from discover._schema import SPARSE_DOCS, SYMBOLIC_DOCS, TRAINING_DOCS

    for section in sections():
        undocumented = [k.name for k in section.keys if not k.doc]
        assert not undocumented, f"[{section.name}] keys without a description: {undocumented}"
    by_name = {s.name: s for s in sections()}
    assert set(by_name["training"].names()) == set(TRAINING_DOCS)
    assert set(by_name["distill.sparse"].names()) == set(SPARSE_DOCS)
    assert set(by_name["distill.symbolic"].names()) == set(SYMBOLIC_DOCS)
    reference = config_reference()
    for section in sections():
        assert f"## `[{section.name}]`" in reference
        assert all(f"| `{k.name}` |" in reference for k in section.keys)


def test_a_key_the_reference_does_not_list_is_refused():
    from discover import ConfigError

    config = copy.deepcopy(DEMO_CONFIG)
    config["data"]["n_trian"] = 3
    with pytest.raises(ConfigError, match="Did you mean `n_train`"):
        config_from_dict(config)


def test_cli_reference_is_generated_from_the_parser():
    sys.path.insert(0, str(DOCS))
    try:
        from hooks import cli_reference, on_page_markdown
    finally:
        sys.path.remove(str(DOCS))
    text = cli_reference()
    assert all(f"## `discover {name}`" in text for name in ("demo", "run", "batch", "report", "export"))
    assert "--resume" in text and "--scheduler" in text
    page = on_page_markdown("<!-- generated: config-reference -->", None, None, None)
    assert "## `[distill.symbolic]`" in page and "`max_evaluations`" in page


def test_getting_started_describes_the_results_folder_that_is_written(tmp_path):
    """Every file the results-folder table names exists in a folder write_results makes, and
    every top-level file written is described. The golden folder is what write_results writes, less the
    reports and figures that write_reports rebuilds here (tests/golden/test_golden.py checks it is current)."""
    folder = golden_copy(tmp_path / "results")
    page = (DOCS / "getting-started.md").read_text()
    table = page[page.index("## Read the results folder"):page.index("discover report results/demo")]
    named = {name for row in table.splitlines() if row.startswith("| `")
             for name in re.findall(r"`([^`]+)`", row.split("|")[1])}
    written = {p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()}
    assert named == written, (named - written, written - named)
    figures = {p.stem for p in (folder / "figures").glob("*.png")}
    assert {"resimulation", "residual_v", "pareto_v", "phase", "loss"} <= figures
