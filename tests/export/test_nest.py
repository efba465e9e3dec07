"""NEST runs what NESTML describes: exported models built into one NEST module (NESTML's NEST
target, against the installed NEST wheel) and simulated in NEST, compared with our re-simulation as
the other simulators are: NRMSE < 1e-3 for continuous states, spike times within 0.1 ms."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from discover import Trajectories, simulate
from discover.cell import membrane_system
from discover.equations import SpikeRule
from discover.export import export, nestml
from discover.export._common import target_names
from discover.export.nest_build import NestBuildError, build, missing, simulate as nest_simulate
from discover.models import get_model
from discover.validate import resimulate_spiking, spike_signal, spike_times
from tests.helpers import GIF_SYSTEMS as GIF, gate_systems, gif_y0

pytestmark = pytest.mark.simulators

CONTINUOUS = {  # model: (system, initial state, constant current, duration in ms)
    "fitzhugh_nagumo": (get_model("fitzhugh_nagumo"), [1.0, 0.5], 0.5, 100.0),
    "morris_lecar": (get_model("morris_lecar"), [-30.0, 0.1], 90.0, 200.0),
    "adex": (get_model("adex"), [-65.0, 10.0], 300.0, 200.0),
    # gates as `distill_gate` writes them (a Boltzmann and a bell; HH's rates with exprel), named apart from
    # the library models built into the same module
    **{name: (dataclasses.replace(system, name=name), y0, current, duration)
       for name, (system, y0, current, duration) in gate_systems().items()}}
TOLERANCE, SPIKE_TOLERANCE = 1e-3, 0.1  # NRMSE per state; ms per spike


def adapting_eif():
    """An exponential integrate-and-fire neuron with spike-triggered adaptation w (+1 per spike)."""
    rule = SpikeRule("V", threshold=-30.0, reset=-58.0, refractory=2.0)
    known = membrane_system({"C": 100.0, "gL": 5.0, "EL": -65.0, "a_w": 30.0}, rule, adaptation=50.0)
    return known.replace_residuals({"V": 0.1 * sp.exp((known.symbol("V") + 50) / 2)}, how="test")


SPIKING = {"adapting_eif": (adapting_eif(), [-65.0, 0.0], 250.0, 200.0),
           "gif": (GIF["crossing"], gif_y0("crossing"), 175.0, 150.0),
           "gif_median": (GIF["median"], gif_y0("median"), 175.0, 150.0)}


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    """Every model above built into one NEST module (one compilation, ~30 s)."""
    why = missing()
    if why:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("nest")
    files = []
    for name, (system, y0, current, duration) in CONTINUOUS.items():
        files += export(system, "nestml", folder / name, y0=y0, inputs={"I": current}, duration=duration)
    for name, (system, y0, current, duration) in SPIKING.items():
        files += export(system, "nestml", folder / name, y0=y0, inputs={"I": current}, duration=duration)
    return build(files, folder / "build"), folder


def run_in_nest(module, system, duration):
    install, folder = module
    names = target_names(system, nestml.RESERVED)
    model = nestml.model_name(system)
    out = nest_simulate(install, model, [names[s] for s in system.states], duration, out=folder / f"{model}.npz")
    return out["t"], np.column_stack([out[names[s]] for s in system.states]), out["spikes"]


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_nest_reproduces_our_trajectory(module, name):
    system, y0, current, duration = CONTINUOUS[name]
    t_nest, y_nest, _ = run_in_nest(module, system, duration)
    t_nest, y_nest = np.concatenate([[0.0], t_nest]), np.vstack([y0, y_nest])  # NEST records from one step on
    t = np.linspace(0.0, duration, 2001)
    ours = simulate(system, [y0], t, {"I": current}).y[0]
    t, ours = t[t <= t_nest[-1]], ours[t <= t_nest[-1]]  # NEST's last record is one step before the end
    theirs = np.column_stack([np.interp(t, t_nest, y_nest[:, k]) for k in range(y_nest.shape[1])])
    error = np.sqrt(np.mean((theirs - ours) ** 2, axis=0)) / ours.std(axis=0)
    assert np.all(error < TOLERANCE), error


@pytest.mark.parametrize("name", list(SPIKING))
def test_nest_spikes_when_we_do(module, name):
    system, y0, current, duration = SPIKING[name]
    _, _, theirs = run_in_nest(module, system, duration)
    t = np.arange(0.0, duration, 0.001)
    start = Trajectories(t, np.tile(y0, (1, t.size, 1)), np.full((1, t.size, 1), current), system.states, ("I",))
    # the moving threshold's level read off the states, as every exporter's test reads it
    signal = spike_signal(system.spike, resimulate_spiking(system, start, substeps=1)[0], system.states)
    ours = spike_times(t, signal, system.spike.threshold)
    assert len(ours) >= 4 and len(theirs) == len(ours), (theirs, ours)
    np.testing.assert_allclose(theirs, ours, atol=SPIKE_TOLERANCE)


def test_a_build_never_writes_into_a_folder_that_holds_files(tmp_path):
    (tmp_path / "keep.txt").write_text("user data")
    with pytest.raises(NestBuildError, match="holds files"):
        build([tmp_path / "keep.txt"], tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "user data"


def test_a_build_refuses_two_models_of_one_name(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "cell_neuron.nestml").write_text("model cell_neuron:\n")
    with pytest.raises(NestBuildError, match="two NESTML files named cell_neuron.nestml"):
        build([tmp_path / "a" / "cell_neuron.nestml", tmp_path / "b" / "cell_neuron.nestml"], tmp_path / "out")
    assert not (tmp_path / "out").exists()
