"""What the exported files say, checked without running a simulator (the runs are in test_exporters.py)."""

import re

import sympy as sp

from discover import EquationSystem
from discover.equations import Parameter
from discover.export import export
from discover.export._api import results_models
from discover.models import get_model
from tests.helpers import fhn_known


def _mod_header(path):
    """The .mod file's leading `:` comment lines, joined into one text."""
    lines = path.read_text().split("NEURON {")[0].splitlines()
    assert lines and all(line.startswith(": ") and len(line) <= 100 for line in lines if line), lines
    return " ".join(line[2:] for line in lines if line)


def test_neuron_mod_header_names_each_unit_and_no_empty_dict(tmp_path):
    """The header said `Model units: {}` for a dimensionless model; it now names every state and
    input with its unit, and how the model's time maps onto NEURON's ms."""
    mod, _ = export(get_model("fitzhugh_nagumo"), "neuron", tmp_path / "fhn", y0=[1.0, 0.5], inputs={"I": 0.5})
    header = _mod_header(mod)
    assert "{}" not in header and "Model units" not in header
    assert "states v (dimensionless), w (dimensionless); inputs I (dimensionless)" in header
    assert "one model time unit = 1 ms in NEURON" in header
    mod, _ = export(get_model("morris_lecar"), "neuron", tmp_path / "ml", y0=[-30.0, 0.1], inputs={"I": 90.0})
    header = _mod_header(mod)
    assert "states V (mV), w (dimensionless); inputs I (uA/cm**2); time in ms." in header
    seconds = EquationSystem.from_text(["dx/dt = -k*x"], parameters=[Parameter("k", 1.0, "1/s")], time_unit="s",
                                       name="decay")
    mod, _ = export(seconds, "neuron", tmp_path / "s", y0=[1.0])
    assert "time in s (1 s = 1000 ms in NEURON)" in _mod_header(mod)


def test_neuron_mod_header_keeps_lines_short_enough_for_nocmodl(tmp_path):
    """A results folder's provenance is one note per step, hundreds of characters in all; on one
    line, nocmodl refused the .mod ("Line too long"). Each note is wrapped into short comment lines."""
    import dataclasses

    fhn = get_model("fitzhugh_nagumo")
    notes = tuple(f"step {i}: " + "coefficients refit through the ODE solver " * 5 for i in range(6))
    mod, _ = export(dataclasses.replace(fhn, provenance=notes), "neuron", tmp_path, y0=[1.0, 0.5])
    header = _mod_header(mod)
    assert all(f"- step {i}: coefficients refit" in header for i in range(6))


def test_other_headers_name_units_as_text_not_a_python_dict(tmp_path):
    """Every exported file describes units the same readable way (no `{}` or `{'V': 'mV'}`)."""
    system = get_model("morris_lecar")
    files = []
    for target in ("python", "brian2", "neuroml", "nestml"):
        files += export(system, target, tmp_path / target, y0=[-30.0, 0.1], inputs={"I": 90.0})
    for path in files:
        text = path.read_text()
        assert "{'V'" not in text and "Model units: {" not in text, path.name
    for path in files:
        if path.suffix in (".py", ".xml") and not path.name.startswith("run_"):
            assert "states V (mV), w (dimensionless); inputs I (uA/cm**2)" in path.read_text(), path.name


def test_a_results_folder_exports_the_known_only_model_beside_the_discovered_one():
    """Both models of a results folder, named apart: the discovered system and the known part
    alone (residual set to 0, as the report's "known only" re-simulation)."""
    known = fhn_known()
    v = known.symbol("v")
    discovered = known.replace_residuals({"v": v - v**3 / 3}, how="test")
    found, known_only = results_models(known, discovered)
    assert (found.name, known_only.name) == ("model_discovered", "model_known_only")
    assert found.rhs == discovered.rhs
    assert known_only.rhs == known.without_residuals().rhs and not known_only.residuals
    assert sp.simplify(known_only.rhs[0] - (known.symbol("I") - known.symbol("w"))) == 0


def test_an_empty_known_part_is_not_exported():
    """A latent field learned from nothing has no known part: an all-zero model is not a comparison."""
    nothing = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"], name="field").with_residual("x", ["x", "y"])
    found = nothing.replace_residuals({"x": -nothing.symbol("y")}, how="test")
    assert [m.name for m in results_models(nothing, found)] == ["field_discovered"]


def test_python_module_writes_parameter_values_as_plain_numbers(tmp_path):
    """A parameter refitted by numpy holds an np.float64, whose repr is `np.float64(...)` in numpy 2."""
    import dataclasses

    import numpy as np

    fhn = get_model("fitzhugh_nagumo")
    fhn = dataclasses.replace(fhn, parameters=tuple(dataclasses.replace(p, value=np.float64(p.value))
                                                    for p in fhn.parameters))
    [path] = export(fhn, "python", tmp_path, y0=[1.0, 0.5], inputs={"I": 0.5})
    assert "np.float64" not in path.read_text()
    assert re.search(r"'a': 0\.7,", path.read_text())


def _export_docs():
    from pathlib import Path

    root = Path(__file__).parents[2]
    readme = (root / "README.md").read_text()
    section = readme[readme.index("## Exports that run in simulators"):readme.index("## Python API")]
    return {"README.md": section, "docs/how-to/export.md": (root / "docs" / "how-to" / "export.md").read_text()}


def test_docs_give_the_nest_build_and_the_nestml_check():
    """The docs' table builds the NESTML file into a NEST module (`nestml --input_path FILE` fails with
    the NEST wheel's own nest-config, which the docs explain) and names the check that needs no NEST."""
    for name, text in _export_docs().items():
        [row] = [line for line in text.splitlines() if line.startswith("| `nestml`")]
        assert "python -m discover.export.nest_build" in row and "python -m discover.export.nestml_check" in row, name
        assert "nestml --input_path" not in row, name
        assert "nest-config" in " ".join(text.split()), name  # and why NESTML's own build command fails


def test_docs_say_which_models_and_files_an_export_writes():
    for name, text in _export_docs().items():
        assert "<model>_discovered" in text and "<model>_known_only" in text, name
        assert "run_<m>_neuroml.py" in text and "<m>_jlems.dat" in text, name


def test_initial_value_names_never_collide_with_a_state():
    # states w_3 and w_30: w_3's initial value `w_30` was the state w_30 itself in LEMS, so w_30 read a constant
    from discover.equations import EquationSystem
    from discover.export import neuroml
    from discover.export._common import initial_names

    system = EquationSystem.from_text(["dw_3/dt = -w_3", "dw_30/dt = -w_30", "dw_300/dt = -w_300"])
    names = {s: s for s in system.states}
    start = initial_names(names, system.states)
    assert len(set(start.values())) == 3 and not set(start.values()) & set(system.states)
    xml, _ = neuroml.component_type(system)
    assert '<StateAssignment variable="w_3" value="w_30"/>' not in xml
