"""Spike detection by dV/dt, the average spike, threshold, reset and refractory period, and their warnings."""

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from discover import DataError
from discover.cell import analyse_spikes, detect_spikes
from discover.equations import SpikeRule, compile_numpy
from discover.models import adex
from discover.validate import integrate_spiking

DT = 0.1  # ms
SHARED = Path(__file__).parents[3] / "shared" / "data" / "recordings"


def template(dt: float = DT, up: float = 150.0) -> np.ndarray:
    """One spike from its onset: a linear upstroke at `up` mV/ms from -45 to +30 mV, a linear
    downstroke at -85 mV/ms to -55 mV, then a slow relaxation (-1 mV/ms at first) towards -60 mV.
    The downstroke is the fastest repolarisation and the relaxation is slower than 20 % of it, so
    the refractory period ends at the corner (75/up + 1 ms), where the shape reads -55 mV."""
    rise, fall = 75.0 / up, 85.0 / 85.0
    t = np.arange(0.0, 30.0, dt)
    v = np.where(t <= rise, -45.0 + up * t, 30.0 - 85.0 * (t - rise))
    after = t > rise + fall
    v[after] = -60.0 + 5.0 * np.exp(-(t[after] - rise - fall) / 5.0)
    return v


def train(n: int = 20, dt: float = DT, up: float = 150.0, noise: float = 0.0, seed: int = 0):
    """`n` template spikes every 50 ms on a -60 mV baseline; returns the trace and the onset samples."""
    rng = np.random.default_rng(seed)
    v = np.full(int(round((50.0 * n + 50.0) / dt)), -60.0)
    onsets = np.arange(n) * int(round(50.0 / dt)) + int(round(20.0 / dt))
    shape = template(dt, up)
    for i in onsets:
        # a ramp from rest to the onset voltage over 5 ms, as a depolarisation that ends in a spike
        ramp = int(round(5.0 / dt))
        v[i - ramp:i] = np.linspace(-60.0, -45.0, ramp, endpoint=False)
        v[i:i + shape.size] = shape
    return v + noise * rng.standard_normal(v.size), onsets


def test_template_spikes_give_their_known_onsets_threshold_reset_and_refractory_period():
    v, onsets = train()
    a = analyse_spikes(v, DT, slope=10.0)
    np.testing.assert_array_equal(a.onsets[0], onsets)  # central differences: the corner's sample, no earlier
    assert a.threshold == pytest.approx(-45.0) and a.threshold_spread == pytest.approx(0.0)
    assert a.shape.count == 20 and a.peak == pytest.approx(30.0, abs=1e-9) and a.rise == pytest.approx(0.5)
    assert a.refractory == pytest.approx(1.6) and a.reset == pytest.approx(-55.1, abs=0.2)  # one sample past the corner
    assert a.count == 20 and a.times[0][0] == pytest.approx(onsets[0] * DT)
    assert a.warnings == ()
    assert a.as_dict()["refractory_ms"] == a.refractory


def test_slope_from_the_data_is_a_fifth_of_the_median_peak_slope_with_a_floor():
    fast = analyse_spikes(train(up=150.0)[0], DT)
    assert fast.slope_source == "data" and fast.peak_slope == pytest.approx(150.0, rel=0.01)
    assert fast.slope == pytest.approx(0.2 * fast.peak_slope)
    slow = analyse_spikes(train(up=40.0)[0], DT)  # 20 % of 40 mV/ms is 8: the floor of 10 applies, and says so
    assert slow.slope == 10.0 and slow.count == 20
    assert any("floor of 10 mV/ms" in w for w in slow.warnings)
    assert analyse_spikes(train(up=40.0)[0], DT, slope=10.0).warnings == ()  # a slope given is not an estimate


def test_noise_does_not_start_spikes_and_each_spike_is_detected_once():
    v, onsets = train(noise=0.3)  # dV/dt noise of about 2 mV/ms
    found = detect_spikes(v, DT)[0]
    assert len(found) == len(onsets) and np.all(np.abs(found - onsets) <= 2)
    # an upstroke whose dV/dt dips below the slope and crosses it again is one spike, not two
    shape = template()
    paused = np.concatenate([shape[:2], np.full(3, shape[2]), shape[2:]])  # a 0.3 ms pause on the upstroke
    notch = np.full(600, -60.0)
    notch[150:200] = np.linspace(-60.0, -45.0, 50, endpoint=False)
    notch[200:200 + paused.size] = paused
    assert len(detect_spikes(notch, DT, 10.0)[0]) == 1
    assert len(detect_spikes(notch, DT, 10.0, dead_time=0.1)[0]) == 2  # the dead time is what merges them


def test_depolarisation_block_and_electrode_jumps_are_not_spikes():
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 200.0, DT)  # after 5 spikes, 200 ms near 0 mV with noise and a damped oscillation
    block = -5.0 + 3.0 * np.exp(-t / 50.0) * np.sin(2 * np.pi * t / 10.0) + 0.5 * rng.standard_normal(t.size)
    v = np.concatenate([train(n=5)[0], np.linspace(-60.0, -5.0, 200), block])  # entered over 20 ms
    assert len(detect_spikes(v, DT, 10.0)[0]) == 5
    assert len(detect_spikes(v, DT, 10.0, min_rise=0.0)[0]) > 5  # the rise from the onset is what rejects the block
    step = np.full(2000, -70.0)
    step[1000:] = -62.0  # an uncompensated electrode at a current step: 8 mV in one sample, 40 mV/ms
    assert len(detect_spikes(step, DT, 10.0)[0]) == 0


def test_estimates_at_a_bound_or_below_three_samples_are_flagged():
    v, _ = train()
    cut = analyse_spikes(v, DT, slope=10.0, after=1.0)  # the downstroke is still going at the end of the cut
    assert cut.refractory == pytest.approx(1.0)
    assert any("search bound of 1 ms" in w for w in cut.warnings)
    coarse = analyse_spikes(train(dt=0.25, up=300.0)[0], 0.25, slope=10.0)  # 4 kHz: a 0.25 ms upstroke
    assert any("rise from onset to peak in 1 sample " in w for w in coarse.warnings)
    few = analyse_spikes(train(n=3)[0], DT, slope=10.0)
    assert any("rests on 3 spikes" in w for w in few.warnings)


def test_units_are_converted_and_bad_input_is_refused_with_the_fix():
    v, onsets = train()
    in_volts = analyse_spikes(v / 1000.0, DT / 1000.0, voltage_unit="V", time_unit="s")
    assert in_volts.threshold == pytest.approx(-45.0) and in_volts.dt == pytest.approx(DT)
    with pytest.raises(DataError, match="time_unit='s'"):
        analyse_spikes(v, DT / 1000.0)
    with pytest.raises(DataError, match="voltage_unit='V'"):
        analyse_spikes(v / 1000.0, DT)
    with pytest.raises(DataError, match="0.5 ms or finer"):
        analyse_spikes(v, 1.0)
    with pytest.raises(DataError, match="`slope` must be a positive"):
        analyse_spikes(v, DT, slope=-5.0)
    with pytest.raises(DataError, match="no spikes"):
        analyse_spikes(np.full(1000, -60.0), DT)
    with pytest.raises(DataError, match="cannot convert"):
        analyse_spikes(v, DT, voltage_unit="mv!")


@pytest.fixture(scope="module")
def adex_cell():
    """The library AdEx (Brette & Gerstner 2005: V_T -50.4 mV, Delta_T 2 mV) driven by 1 s of noise,
    spikes cut at +20 mV and reset to -58 mV, at 10 kHz."""
    system = adex()
    rng = np.random.default_rng(0)
    n, a = 10000, np.exp(-DT / 3.0)
    x = np.zeros(n)
    for k in range(1, n):
        x[k] = a * x[k - 1] + np.sqrt(1 - a * a) * rng.standard_normal()
    current = 750.0 + 250.0 * x
    rule = SpikeRule("V", 20.0, -58.0, 0.0, add=(("w", 80.0),))
    y = integrate_spiking(compile_numpy(system), rule, 0, np.array([[-70.6, 0.0]]), current[None, :, None], DT, 1,
                          system.states)
    return y[0, :, 0], y[0, :, 1], current


def test_simulated_adex_threshold_is_where_its_equation_reaches_the_slope(adex_cell):
    v, w, current = adex_cell
    a = analyse_spikes(v, DT, slope=10.0)
    C, gL, EL, VT, dT = 281.0, 30.0, -70.6, -50.4, 2.0

    def crossing(i):  # the voltage at which the model's dV/dt is 10 mV/ms, with the current and w of that onset
        return brentq(lambda V: (-gL * (V - EL) + gL * dT * np.exp((V - VT) / dT) - w[i] + current[i]) / C - 10.0,
                      VT, 0.0)

    truth = np.array([crossing(i) for i in a.onsets[0]])
    assert a.count >= 15
    # the onset is the first sample past the crossing: at most the rise over one sample (~1 mV) above it
    assert np.all(np.abs(a.onset_voltages - truth) < 1.5) and abs(a.threshold - np.median(truth)) < 0.6
    # about Delta_T ln(k C / (gL Delta_T)) = 7.7 mV above V_T: the onset threshold is not the EIF's V_T
    assert a.threshold - VT == pytest.approx(dT * np.log(10.0 * C / (gL * dT)), abs=1.0)
    assert a.reset == pytest.approx(-58.0, abs=0.5) and a.refractory <= 0.6


def test_simulated_adex_with_the_slope_from_its_data_flags_its_unresolved_spikes(adex_cell):
    v, _, _ = adex_cell
    a = analyse_spikes(v, DT)
    # the cut-off spike jumps to +20 mV within a sample: its 'peak dV/dt' is the jump, and the rise is 1-2 samples
    assert a.peak_slope > 100.0 and a.rise <= 2 * DT
    assert any("rise from onset to peak" in w for w in a.warnings)


def _naive_crossings(v: np.ndarray, level: float = 0.0) -> int:
    v = np.nan_to_num(v, nan=-100.0)
    return int(np.sum((v[:-1] < level) & (v[1:] >= level)))


@pytest.mark.parametrize("name, low, high", [
    ("pyabf_2019_07_24_0055_fsi_IC_steps", 1.0, 3.0),  # fast-spiking interneuron, 20 kHz: 1.85 ms, -50 mV
    ("bluepyefe_B6_IDRest", 3.0, 6.0),  # cortical cells at 4 kHz: 4.0 and 4.75 ms, -43 mV
    ("bluepyefe_B8_IDRest", 3.0, 6.0),
])
def test_shared_step_cells(name, low, high):
    path = SHARED / name / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"the shared recordings are not at {path} (a user's clone does not have them)")
    data = np.load(path)
    a = analyse_spikes(data["V"], float(data["dt"]), time_unit="s")
    naive = sum(_naive_crossings(v, -10.0) for v in data["V"])
    assert abs(a.count - naive) <= 0.02 * naive  # every spike peaks above -10 mV here
    assert low < a.refractory < high and -60.0 < a.reset < -35.0 and -45.0 < a.threshold < -30.0
    assert not any("search bound" in w or "sample" in w for w in a.warnings)


def _drn(cell: str, kind: str) -> np.ndarray:
    from discover.recordings import read_recording

    folder, stem = {"5HT": ("DRN156_5HT", "DRN156_5ht"), "GABA": ("DRN158_GABA", "DRN158_gaba")}[cell]
    path = SHARED / "gifk_drn" / folder / f"{stem}_{kind}.abf"
    if not path.is_file():
        pytest.skip(f"the shared dorsal raphe recordings are not at {path} (a user's clone does not have them)")
    rec = read_recording(path, channel=0, current_channel=1)  # the channel labels are swapped in these files
    assert rec.time_unit == "s" and rec.units["V"] == "mV"
    return rec.signals["V"]


@pytest.mark.parametrize("cell, refractory", [("GABA", 4.8), ("5HT", 8.0)])
def test_shared_raphe_cells_reset_and_refractory_period(cell, refractory):
    a = analyse_spikes(_drn(cell, "training"), DT)
    assert a.refractory == pytest.approx(refractory, abs=0.5)
    assert a.count == pytest.approx({"GABA": 309, "5HT": 381}[cell], abs=5)
    assert a.rise > 1.0 and a.reset < -30.0  # broad raphe spikes, resolved at 10 kHz


def test_shared_serotonergic_cell_in_depolarisation_block_fires_no_spike():
    repeats = _drn("5HT", "test")
    found = detect_spikes(repeats, DT)
    # 5.33-5.60 s of every repeat: the cell sits near 0 mV under 250-330 pA without firing; a 0 mV threshold
    # counts its fluctuations and a slow 25 mV bump there as spikes
    lo, hi = int(5330 / DT), int(5600 / DT)
    assert all(not np.any((o > lo) & (o < hi)) for o in found)
    assert all(_naive_crossings(v[lo:hi]) >= 3 for v in repeats)
