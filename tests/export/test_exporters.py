"""Each export runs in its real simulator and reproduces our own re-simulation."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from discover import ConfigError, EquationSystem, Trajectories, simulate
from discover.cli import main
from discover.export import export, export_results, neuron as neuron_export
from discover.models import get_model
from tests.helpers import compile_mod, fhn_known, gate_systems, golden_copy, in_a_fresh_interpreter, needs

pytestmark = pytest.mark.simulators

# model, initial state, constant input, duration (model time units)
CASES = [("fitzhugh_nagumo", [1.0, 0.5], 0.5, 100.0), ("morris_lecar", [-30.0, 0.1], 90.0, 200.0),
         ("adex", [-65.0, 10.0], 300.0, 200.0)]
TOLERANCE = 1e-3  # NRMSE of the simulator's trajectory against ours, per state
# jLEMS integrates by forward Euler (dt = 1 us here), so its error is first order in dt
TOLERANCES = {"neuroml": 1e-2}


def _available(target):
    """Whether `target`'s simulator runs here (as `needs` requires it)."""
    try:
        needs(target)
    except pytest.skip.Exception:
        return False
    return True


def run_export(files, folder, duration):
    """Compile where needed, then run the exported runner in a fresh interpreter; returns (t, y).
    The LEMS runner runs jLEMS (through pyNeuroML) and returns time in the model's unit."""
    if any(f.suffix == ".mod" for f in files):
        compile_mod(folder)
    return in_a_fresh_interpreter(folder, files[-1].name, "run_model() if hasattr(m, 'run_model') else "
                                  f"m.simulate(t=np.linspace(0, {duration}, 2001))")


def nrmse(t, y, ref_t, ref_y):
    got = np.column_stack([np.interp(ref_t, t, y[:, k]) for k in range(y.shape[1])])
    return np.sqrt(np.mean((got - ref_y) ** 2, axis=0)) / ref_y.std(axis=0)


@pytest.mark.parametrize("target", ["python", "brian2", "neuron", "neuroml"])
@pytest.mark.parametrize("model, y0, current, duration", CASES, ids=[c[0] for c in CASES])
def test_export_reproduces_our_trajectory(target, model, y0, current, duration, tmp_path):
    needs(target)
    system = get_model(model)
    t = np.linspace(0, duration, 2001)
    ours = simulate(system, [y0], t, {"I": current}).y[0]
    files = export(system, target, tmp_path, y0=y0, inputs={"I": current}, duration=duration)
    error = nrmse(*run_export(files, tmp_path, duration), t, ours)
    assert np.all(error < TOLERANCES.get(target, TOLERANCE)), error


EXPORTED = {  # what `discover export DIR --to all` writes for a results folder of a system named "model"
    "python": ["model_discovered.py", "model_known_only.py"],
    "brian2": ["model_discovered_brian2.py", "model_known_only_brian2.py"],
    "neuron": ["model_discovered.mod", "model_known_only.mod", "run_model_discovered_neuron.py",
               "run_model_known_only_neuron.py"],
    "neuroml": ["LEMS_model_discovered.xml", "LEMS_model_known_only.xml", "run_model_discovered_neuroml.py",
                "run_model_known_only_neuroml.py"],
    "nestml": ["model_discovered_neuron.nestml", "model_known_only_neuron.nestml"],
}


def test_results_folder_exports_the_known_only_model_beside_the_discovered_one(tmp_path):
    """Every target gets both models, named apart; each runs in its simulator (two NEURON mechanisms
    compiled in one folder included) and reproduces the held-out prediction of its model (the golden
    results folder of the small FitzHugh–Nagumo run: tests/golden/)."""
    from discover.report import load_results

    folder = golden_copy(tmp_path / "results")
    assert main(["export", str(folder), "--to", "all"]) == 0
    export_dir = folder / "export"
    assert {t: sorted(p.name for p in (export_dir / t).iterdir()) for t in EXPORTED} == EXPORTED
    saved = load_results(folder)
    heldout, predictions = saved.heldout, saved.predictions
    duration = float(heldout.t[-1])
    runs = {"python": lambda f: in_a_fresh_interpreter(export_dir / "python", f"{f}.py",
                                                       f"simulate(t=np.linspace(0, {duration}, 2001))")}
    if _available("neuron"):
        compile_mod(export_dir / "neuron")
        runs["neuron"] = lambda f: in_a_fresh_interpreter(export_dir / "neuron", f"run_{f}_neuron.py", "run_model()")
    if _available("neuroml"):
        runs["neuroml"] = lambda f: in_a_fresh_interpreter(export_dir / "neuroml", f"run_{f}_neuroml.py",
                                                           "run_model()")
    for target, run in runs.items():
        for model, prediction in (("model_discovered", "discovered"), ("model_known_only", "known only")):
            error = nrmse(*run(model), heldout.t, predictions[prediction][0])
            assert np.all(error < TOLERANCES.get(target, TOLERANCE)), (target, model, error)
    if _available("nestml"):
        for path in sorted((export_dir / "nestml").iterdir()):
            assert nestml_check(path).returncode == 0, path.name
    with pytest.raises(ConfigError, match="--force"):
        export_results(folder, ["python"])  # never replaces files silently
    with pytest.raises(ConfigError, match="Did you mean `brian2`"):
        export_results(folder, ["brain2"], force=True)


def test_export_refuses_a_system_with_neural_residuals(tmp_path):
    with pytest.raises(ConfigError, match="neural residuals"):
        export(fhn_known(), "python", tmp_path)



def nestml_check(path):
    """The documented check (README, docs/how-to/export.md): NESTML's parser and semantic checks,
    which run without NEST or Graphviz, in a fresh interpreter (NESTML keeps global state)."""
    return subprocess.run([sys.executable, "-m", "discover.export.nestml_check", str(path)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("model, y0, current, duration", CASES, ids=[c[0] for c in CASES])
def test_nestml_model_passes_the_nestml_checks(model, y0, current, duration, tmp_path):
    # NEST itself does not build here (see ../shared/docs/FACTS.md); NESTML's parser and
    # semantic checks (units of every ODE) do run, and catch a wrong unit or syntax.
    pytest.importorskip("pynestml", reason="NESTML is not installed (pip install -e '.[dev]' installs it)")
    [path] = export(get_model(model), "nestml", tmp_path, y0=y0, inputs={"I": current}, duration=duration)
    done = nestml_check(path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / path.name).write_text(path.read_text().replace("(1 ms)", "(1 pA)", 1))
    done = nestml_check(broken / path.name)
    assert done.returncode == 1  # the check is real: a unit error in one ODE fails it


@pytest.mark.parametrize("refractory", [0.0, 2.0])
def test_spiking_nestml_model_passes_the_nestml_checks(refractory, tmp_path):
    """A spike rule becomes NESTML's own pattern (onCondition, emit_spike, a refractory timer that
    keeps the spiking state out of integrate_odes); parser and semantic checks accept it, and
    they do check it: a reset in the wrong unit fails."""
    pytest.importorskip("pynestml", reason="NESTML is not installed (pip install -e '.[dev]' installs it)")
    eif = _adapting_eif(50.0)
    eif = dataclasses.replace(eif, spike=dataclasses.replace(eif.spike, refractory=refractory))
    [path] = export(eif, "nestml", tmp_path, y0=[-65.0, 0.0], inputs={"I": 250.0}, duration=200.0)
    text = path.read_text()
    assert "emit_spike()" in text and "w += 1.0" in text and ("refr_t" in text) == (refractory > 0)
    done = nestml_check(path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / path.name).write_text(text.replace("_ = -58.0 mV", "_ = -58.0 pA"))
    done = nestml_check(broken / path.name)
    assert done.returncode == 1


def test_untrusted_text_cannot_inject_code_into_an_export(tmp_path):
    import dataclasses

    from discover.equations import Parameter

    fhn = get_model("fitzhugh_nagumo")
    evil = '"""\nimport os; os.system("echo pwned")\n"""'
    hostile = dataclasses.replace(
        fhn, name="../../evil name", provenance=(evil,),
        parameters=tuple(Parameter(p.name, p.value, p.unit, evil + " -->") for p in fhn.parameters),
    )
    files = []
    for target in ("python", "brian2", "neuron", "neuroml", "nestml"):
        files += export(hostile, target, tmp_path / target, y0=[1.0, 0.5], inputs={"I": 0.5})
    assert all(f.parent.parent == tmp_path for f in files)  # no path traversal through the name
    for f in files:
        lines = f.read_text().splitlines()
        assert not any(line.lstrip().startswith("import os") for line in lines), f.name  # stays inside one comment line
        if f.suffix == ".py":  # the payload is text in a docstring or comment, not a statement
            import ast

            tree = ast.parse(f.read_text())
            assert not any(isinstance(n, ast.Import) and any(a.name == "os" for a in n.names) for n in ast.walk(tree))
        if f.suffix == ".xml":
            import xml.etree.ElementTree as ET

            ET.parse(f)  # still well-formed: no comment was closed early
    python = [f for f in files if f.parent.name == "python"]
    done = subprocess.run([sys.executable, python[0].name], cwd=python[0].parent, capture_output=True, text=True)
    assert done.returncode == 0 and "pwned" not in done.stdout


@pytest.mark.parametrize("adaptation", [None, 50.0])
def test_spiking_model_exports_to_brian2_with_the_same_spike_times(tmp_path, adaptation):
    """An EIF neuron with threshold, reset and refractoriness (and, with `adaptation`, a state w
    that jumps by 1 at each spike and pulls V down): Brian2 runs it and spikes when we do."""
    needs("brian2")
    from discover.cell import membrane_system
    from discover.equations import SpikeRule
    from discover.validate import resimulate_spiking, spike_times

    rule = SpikeRule("V", threshold=-30.0, reset=-58.0, refractory=2.0)
    known = membrane_system({"C": 100.0, "gL": 5.0, "EL": -65.0, "a_w": 30.0}, rule, adaptation=adaptation)
    V, n = known.symbol("V"), len(known.states)
    eif = known.replace_residuals({"V": 0.1 * sp.exp((V + 50) / 2)}, how="test")
    y0 = [-65.0, 0.0][:n]
    files = export(eif, "brian2", tmp_path, y0=y0, inputs={"I": 250.0}, duration=200.0)
    t, y = run_export(files, tmp_path, 200.0)
    ours_t = np.arange(0, 200.0, 0.01)
    data = Trajectories(ours_t, np.tile(y0, (1, ours_t.size, 1)), np.full((1, ours_t.size, 1), 250.0),
                        known.states, ("I",))
    ours = spike_times(ours_t, resimulate_spiking(eif, data, substeps=1)[0, :, 0], -30.0)
    # Brian2 resets within the step it crosses: its trace never reads the threshold, so find the resets
    theirs = t[1:][np.diff(y[:, 0]) < -20.0]
    assert len(ours) >= 4 and len(theirs) == len(ours)
    if adaptation:  # intervals lengthen as w builds up
        assert np.diff(ours)[-1] > 1.2 * np.diff(ours)[0]
    # the first spike to the step; after it, Brian2 releases V from its refractory clamp one
    # 0.01 ms step earlier than we do (its refractory counts whole steps from the spike's step)
    assert abs(theirs[0] - ours[0]) <= 0.011
    np.testing.assert_allclose(np.diff(theirs), np.diff(ours), atol=0.011 if adaptation is None else 0.05)


def _adapting_eif(adaptation):
    from discover.cell import membrane_system
    from discover.equations import SpikeRule

    rule = SpikeRule("V", threshold=-30.0, reset=-58.0, refractory=2.0)
    known = membrane_system({"C": 100.0, "gL": 5.0, "EL": -65.0, "a_w": 30.0}, rule, adaptation=adaptation)
    return known.replace_residuals({"V": 0.1 * sp.exp((known.symbol("V") + 50) / 2)}, how="test")


def _our_spike_times(system, y0, current, duration, dt=0.001):
    from discover.validate import resimulate_spiking, spike_times

    t = np.arange(0, duration, dt)
    data = Trajectories(t, np.tile(y0, (1, t.size, 1)), np.full((1, t.size, 1), current), system.states, ("I",))
    return spike_times(t, resimulate_spiking(system, data, substeps=1)[0, :, 0], system.spike.threshold)


@pytest.mark.parametrize("adaptation", [None, 50.0])
def test_spiking_model_exports_to_python_with_the_same_spike_times(tmp_path, adaptation):
    """The standalone module finds each threshold crossing as a solver event, resets, jumps and
    holds; run in a fresh interpreter (no discover), it spikes when we do."""
    eif = _adapting_eif(adaptation)
    y0 = [-65.0, 0.0][:len(eif.states)]
    [path] = export(eif, "python", tmp_path, y0=y0, inputs={"I": 250.0}, duration=200.0)
    t, y, theirs = in_a_fresh_interpreter(tmp_path, path.name, "simulate_spikes(t=np.arange(0, 200.0, 0.01))",
                                          ("t", "y", "spikes"))
    _assert_spikes_as_ours(t, y, theirs, eif, y0, adaptation)


def _assert_spikes_as_ours(t, y, theirs, eif, y0, adaptation):
    """Spike times within 0.002 ms of ours (ours found at the end of a 1 us step, theirs to the
    solver's precision), V held at the reset while refractory, intervals lengthening with w."""
    ours = _our_spike_times(eif, y0, 250.0, 200.0)
    assert len(ours) >= 4 and len(theirs) == len(ours), (theirs, ours)
    assert abs(theirs[0] - ours[0]) <= 0.002
    np.testing.assert_allclose(np.diff(theirs), np.diff(ours), atol=0.002)
    held = (t > theirs[0] + 0.1) & (t < theirs[0] + 1.9)
    np.testing.assert_allclose(y[held, 0], -58.0)
    if adaptation:
        assert np.diff(theirs)[-1] > 1.2 * np.diff(theirs)[0]


@pytest.mark.parametrize("adaptation", [None, 50.0])
def test_spiking_model_exports_to_lems_with_the_same_spike_times(tmp_path, adaptation):
    """jLEMS runs the exported threshold / reset / refractory regimes (and w's jump) and spikes
    when we do. jLEMS steps by forward Euler (1 us here); ours is RK4 at the same step."""
    needs("neuroml")
    eif = _adapting_eif(adaptation)
    y0 = [-65.0, 0.0][:len(eif.states)]
    files = export(eif, "neuroml", tmp_path, y0=y0, inputs={"I": 250.0}, duration=200.0)
    t, y = run_export(files, tmp_path, 200.0)
    theirs = t[1:][np.diff(y[:, 0]) < -20.0]  # the resets
    ours = _our_spike_times(eif, y0, 250.0, 200.0)
    assert len(ours) >= 4 and len(theirs) == len(ours), (theirs, ours)
    if adaptation:  # w jumped at every spike in jLEMS too: intervals lengthen
        assert np.diff(theirs)[-1] > 1.2 * np.diff(theirs)[0]
    # jLEMS resets one step after the crossing and leaves the refractory regime at the first step
    # past it: a few us per interval, which add up over 20 spikes, so compare the intervals
    assert abs(theirs[0] - ours[0]) <= 0.01
    np.testing.assert_allclose(np.diff(theirs), np.diff(ours), atol=0.01)
    held = (t > theirs[0] + 0.1) & (t < theirs[0] + 1.9)  # the refractory period holds V at the reset
    np.testing.assert_allclose(y[held, 0], -58.0)


@pytest.mark.parametrize("adaptation", [None, 50.0])
def test_spiking_model_exports_to_neuron_with_the_same_spike_times(tmp_path, adaptation):
    """NEURON's CVODE finds each crossing of the threshold (a NetCon on v); the runner's event
    resets v, jumps w and holds v for the refractory period: it spikes when we do."""
    needs("neuron")
    eif = _adapting_eif(adaptation)
    y0 = [-65.0, 0.0][:len(eif.states)]
    files = export(eif, "neuron", tmp_path, y0=y0, inputs={"I": 250.0}, duration=200.0)
    assert files[0].name == "membrane_model.mod"  # not "membrane": i_membrane is NEURON's own
    compile_mod(tmp_path)
    t, y, theirs = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model(record_dt=0.01)", ("t", "y", "spikes"))
    _assert_spikes_as_ours(t, y, theirs, eif, y0, adaptation)


@pytest.mark.parametrize(("name", "mechanism"), [("membrane", "membrane_model"), ("membrane_", "membrane_model"),
                                                 ("cap", "cap_model"), ("model", "model_"), ("2cell", "m_2cell")])
def test_neuron_mechanism_never_takes_a_name_neuron_already_uses(name, mechanism):
    """i_membrane, i_membrane_ and i_cap are NEURON's own currents; hoc's `model` aborted start-up."""
    system = EquationSystem.from_text(["dV/dt = -V"], name=name)
    assert neuron_export.mechanism_name(system) == mechanism


def test_neuron_refuses_a_spike_rule_on_a_state_that_is_not_the_membrane_voltage(tmp_path):
    from discover import EquationSystem
    from discover.equations import SpikeRule

    rate = EquationSystem.from_text(["dx/dt = 1 - x"], parameters={})
    rate = dataclasses.replace(rate, spike=SpikeRule("x", threshold=0.9, reset=0.0))
    with pytest.raises(ConfigError, match="not its one membrane voltage in mV"):
        export(rate, "neuron", tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["model", "hh", "2cell"])
def test_neuron_export_of_a_model_named_like_a_hoc_builtin_runs(name, tmp_path):
    """`from_text` names a system "model" by default; as a SUFFIX that clashed with stdrun.hoc's
    `model` and NEURON aborted at start-up. Names NEURON already uses get a trailing `_`."""
    needs("neuron")
    system = get_model("fitzhugh_nagumo")
    system = type(system).from_dict({**system.to_dict(), "name": name})
    t = np.linspace(0, 50.0, 2001)
    ours = simulate(system, [[-1.0, 1.0]], t, {"I": 0.5}).y[0]
    files = export(system, "neuron", tmp_path, y0=[-1.0, 1.0], inputs={"I": 0.5}, duration=50.0)
    assert np.all(nrmse(*run_export(files, tmp_path, 50.0), t, ours) < TOLERANCE)


@pytest.mark.parametrize("target", ["python", "brian2", "neuron", "neuroml"])
@pytest.mark.parametrize("case", ["morris_lecar_w", "hodgkin_huxley_n"])
def test_a_distilled_gate_exports_and_runs_as_ours(target, case, tmp_path):
    """A gate written by `distill_gate` (Boltzmann and bell; HH's rates with exprel) runs in each
    simulator as in our re-simulation, and as the generating model does (the same gate)."""
    needs(target)
    system, y0, current, duration = gate_systems()[case]
    t = np.linspace(0, duration, 2001)
    ours = simulate(system, [y0], t, {"I": current}).y[0]
    generating = simulate(get_model(case.rsplit("_", 1)[0]), [y0], t, {"I": current}).y[0]
    np.testing.assert_allclose(ours, generating, atol=1e-4 * np.abs(generating).max())
    files = export(system, target, tmp_path, y0=y0, inputs={"I": current}, duration=duration)
    error = nrmse(*run_export(files, tmp_path, duration), t, ours)
    assert np.all(error < TOLERANCES.get(target, TOLERANCE)), error


@pytest.mark.parametrize("case", ["morris_lecar_w", "hodgkin_huxley_n"])
def test_a_distilled_gate_passes_the_nestml_checks(case, tmp_path):
    """The gate's parameters carry units (mV, ms, 1/ms) that NESTML's unit checks accept."""
    pytest.importorskip("pynestml", reason="NESTML is not installed (pip install -e '.[dev]' installs it)")
    system, y0, current, duration = gate_systems()[case]
    [path] = export(system, "nestml", tmp_path, y0=y0, inputs={"I": current}, duration=duration)
    done = nestml_check(path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
