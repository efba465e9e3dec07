import numpy as np
import pytest

from discover import DataError, Trajectories, simulate
from discover.equations import EquationSystem


def _ok(**kw):
    args = dict(t=np.arange(5.0), y=np.zeros((2, 5, 1)), states=("x",))
    args.update(kw)
    return Trajectories(**args)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"y": np.zeros((2, 4, 1))}, "n_times=5"),
        ({"t": np.array([0.0, 1, 1, 2, 3])}, "strictly increasing"),
        ({"t": np.array([0.0, 1, 2, 4, 5])}, "uniformly spaced"),
        ({"y": np.full((2, 5, 1), np.nan)}, "NaN"),
        ({"states": ("x", "y")}, "state columns"),
    ],
)
def test_bad_arrays_name_the_problem(kw, message):
    with pytest.raises(DataError, match=message):
        _ok(**kw)


def test_npz_round_trip(tmp_path):
    data = Trajectories(np.arange(4.0), np.random.default_rng(0).normal(size=(2, 4, 2)),
                        np.ones((2, 4, 1)), ("v", "w"), ("I",))
    data.save_npz(tmp_path / "d.npz")
    back = Trajectories.load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.y, data.y)
    np.testing.assert_array_equal(back.u, data.u)
    assert back.states == ("v", "w") and back.inputs == ("I",)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        Trajectories.load_npz(tmp_path / "nope.npz")


def test_simulate_matches_exact_solution_with_time_varying_input():
    # dx/dt = -x/tau + I(t) with I = sin(t): exact solution known in closed form.
    system = EquationSystem.from_text(["dx/dt = -x/tau + I"], inputs=["I"], parameters={"tau": 2.0})
    t = np.linspace(0, 10, 2001)
    data = simulate(system, [[1.0]], t, {"I": np.sin})
    k = 0.5
    exact = (1 + 1 / (1 + k**2)) * np.exp(-k * t) + (k * np.sin(t) - np.cos(t)) / (1 + k**2)
    np.testing.assert_allclose(data.y[0, :, 0], exact, atol=1e-5)


def test_simulate_noise_is_reproducible_and_scaled():
    system = EquationSystem.from_text(["dx/dt = -x"])
    t = np.linspace(0, 5, 501)
    a = simulate(system, [[1.0]], t, noise=0.05, seed=3)
    b = simulate(system, [[1.0]], t, noise=0.05, seed=3)
    clean = simulate(system, [[1.0]], t)
    np.testing.assert_array_equal(a.y, b.y)
    ratio = (a.y - clean.y).std() / clean.y.std()
    assert 0.04 < ratio < 0.06


def test_input_waveforms():
    from discover.data import Chirp, Noise, Ramp, Step

    t = np.linspace(0, 10, 1001)
    np.testing.assert_array_equal(Step(2.0, 1.0, 3.0, baseline=-1.0)(np.array([0.5, 1.0, 2.9, 3.0])), [-1, 1, 1, -1])
    np.testing.assert_allclose(Ramp(0.0, 10.0, 2.0, 4.0)(np.array([0.0, 3.0, 5.0])), [0, 5, 10])
    c = Chirp(1.0, 0.5, 2.0, 10.0)(t)
    assert abs(c).max() <= 1 and c[0] == 0
    zero_crossings_early = np.sum(np.diff(np.sign(c[:200])) != 0)
    zero_crossings_late = np.sum(np.diff(np.sign(c[-200:])) != 0)
    assert zero_crossings_late > 2 * zero_crossings_early  # frequency rises
    n = Noise(mean=1.0, std=0.5, tau=0.05, seed=1)(np.linspace(0, 200, 20001))
    assert n.mean() == pytest.approx(1.0, abs=0.05) and n.std() == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(n, Noise(1.0, 0.5, 0.05, seed=1)(np.linspace(0, 200, 20001)))


def test_multiplicative_noise_scales_with_the_signal():
    system = EquationSystem.from_text(["dx/dt = 0*x"])
    t = np.linspace(0, 1, 2001)
    data = simulate(system, [[1.0], [100.0]], t, noise=0.1, noise_model="multiplicative")
    assert data.y[0].std() == pytest.approx(0.1, rel=0.1)
    assert data.y[1].std() == pytest.approx(10.0, rel=0.1)
    with pytest.raises(DataError, match="noise_model"):
        simulate(system, [[1.0]], t, noise=0.1, noise_model="gaussian")


def test_blow_up_is_a_clear_simulation_error():
    from discover import FitError

    system = EquationSystem.from_text(["dx/dt = x**2"])
    with pytest.raises(FitError, match="diverged or failed"):
        simulate(system, [[1.0]], np.linspace(0, 2, 21))


def _lif(refractory):
    import dataclasses

    from discover.equations import SpikeRule

    system = EquationSystem.from_text(["dv/dt = (-v + I)/10", "dw/dt = -w/50"], inputs=["I"])
    return dataclasses.replace(system, spike=SpikeRule("v", threshold=1.0, reset=0.0, refractory=refractory,
                                                       add=(("w", 1.0),)))


@pytest.mark.parametrize("refractory", [0.0, 2.0])
def test_simulate_honours_the_spike_rule(refractory):
    # leaky integrate-and-fire, v' = (I - v)/10 from 0 to threshold 1 at I = 2: each interval is
    # 10 ln 2 plus the refractory period, and w counts the spikes (decaying)
    from discover.validate import spike_times

    t = np.arange(0.0, 100.0, 0.01)
    data = simulate(_lif(refractory), [[0.0, 0.0]], t, {"I": 2.0})
    v, w = data.y[0, :, 0], data.y[0, :, 1]
    spikes = spike_times(t, v, 1.0)  # the sample after each spike reads the threshold
    interval = 10 * np.log(2) + refractory
    assert len(spikes) == int(100 // interval)
    np.testing.assert_allclose(np.diff(spikes), interval, atol=0.011)  # to the 0.01 sample
    assert v.max() == 1.0 and np.count_nonzero(v == 1.0) == len(spikes)  # one marked sample per spike
    assert np.all(np.diff(w)[np.searchsorted(t, spikes) - 1] > 0.9)  # w jumps at each spike
    if refractory:
        held = (t > spikes[0] + 0.05) & (t < spikes[0] + refractory - 0.05)
        np.testing.assert_array_equal(v[held], 0.0)


def test_split_time_keeps_every_trajectory_and_sample():
    from discover.data import Trajectories

    t = np.arange(10.0)
    data = Trajectories(t, np.arange(20.0).reshape(2, 10, 1), np.zeros((2, 10, 0)), ("x",), ())
    head, tail = data.split_time(0.3)
    assert head.t.size == 7 and tail.t.size == 3 and tail.t[0] == 7.0
    assert np.array_equal(np.concatenate([head.y, tail.y], axis=1), data.y)


def test_simulated_spikes_are_found_by_the_chunking_between_spikes():
    # a reset between two samples left no sample at the threshold, so training chunks spanned
    # the resets and taught the network a downstroke that the model does not have
    from discover.cell import spike_free_chunks

    system = _lif(0.0)
    data = simulate(system, [[0.0, 0.0]], np.arange(0.0, 100.0, 0.01), {"I": 2.0}, noise=0.01)
    chunks = spike_free_chunks(data, system.spike, 30)
    assert chunks.n_trajectories > 10
    assert np.all(np.diff(chunks.y[..., 0], axis=1) > -0.1)  # v only rises between spikes here


def _damaged_npz_files(tmp_path):
    """A cut copy of a saved archive (its directory at the end lost) and one with a member's bytes
    overwritten (the directory intact, so zipfile accepts it until the member is read)."""
    data = Trajectories(np.arange(200.0), np.random.default_rng(0).normal(size=(2, 200, 1)))
    data.save_npz(tmp_path / "whole.npz")
    raw = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    corrupt = bytearray(raw)
    corrupt[200:1200] = bytes(1000)
    (tmp_path / "corrupt.npz").write_bytes(bytes(corrupt))
    return tmp_path / "cut.npz", tmp_path / "corrupt.npz"


def test_damaged_npz_is_one_data_error_whoever_opens_it(tmp_path):
    """Trajectories.load_npz, read_npz and the config's reader detection share one opener."""
    from discover import config_from_dict
    from discover._config import DEMO_CONFIG
    from discover.recordings import read_npz

    for path in _damaged_npz_files(tmp_path):
        for read in (Trajectories.load_npz, lambda p: read_npz(p, units={"V": "mV"}, time_unit="ms")):
            with pytest.raises(DataError, match=f"{path.name}.*(not an .npz archive|damaged or truncated)"):
                read(path)
        raw = {**DEMO_CONFIG, "data": {"path": path.name}}
        with pytest.raises(DataError, match=path.name):
            config_from_dict(raw, base_dir=tmp_path).load_data()
