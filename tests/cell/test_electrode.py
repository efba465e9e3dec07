"""Active electrode compensation (Badel et al. 2008) on a known cell and electrode, and on the shared raphe cells."""

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from discover import DataError
from discover.cell import analyse_spikes, fit_electrode

DT = 0.1  # ms
SHARED = Path(__file__).parents[3] / "shared" / "data" / "recordings" / "gifk_drn"


def cell_and_electrode(re: float = 30.0, tau_e: float = 0.1, rm: float = 200.0, tau_m: float = 20.0,
                       duration: float = 10000.0, noise: float = 0.1, seed: int = 0):
    """A passive membrane (rm MOhm, tau_m ms) and an RC electrode (re MOhm, tau_e ms) in series, driven
    by -50 pA plus white noise of 50 pA s.d. at 10 kHz, recorded with `noise` mV of measurement noise.
    Each RC is integrated exactly for a current held over a sample. Returns (V_rec, I, V_m)."""
    rng = np.random.default_rng(seed)
    current = -50.0 + 50.0 * rng.standard_normal(int(duration / DT))

    def rc(r, tau):  # mV for r in MOhm and pA: 1 MOhm * 1 pA = 1e-3 mV
        a = np.exp(-DT / tau)
        return lfilter([r * 1e-3 * (1 - a)], [1.0, -a], current)

    membrane = -65.0 + rc(rm, tau_m)
    return membrane + rc(re, tau_e) + noise * rng.standard_normal(current.size), current, membrane


def test_recovers_a_known_electrode_and_membrane_and_removes_the_electrode():
    v, i, membrane = cell_and_electrode()
    fit = fit_electrode(v, i, DT)
    assert fit.resistance == pytest.approx(30.0, rel=0.1)
    assert fit.membrane_tau == pytest.approx(20.0, rel=0.05)
    assert fit.membrane_resistance == pytest.approx(200.0, rel=0.05)
    assert fit.electrode_tau == pytest.approx(0.1, abs=0.05) and fit.kernel.size == 70
    error = fit.compensate(v, i) - membrane
    assert (v - membrane).std() > 1.0 and error.std() < 0.11  # down to the 0.1 mV measurement noise
    # an instantaneous electrode at this sampling rate: said, not hidden
    assert any("under 3 samples" in w for w in fit.warnings)
    assert fit.as_dict()["electrode_resistance_MOhm"] == fit.resistance


def test_a_slower_electrode_is_resolved_without_warnings():
    v, i, membrane = cell_and_electrode(re=50.0, tau_e=0.5, rm=300.0, tau_m=30.0, seed=1)
    fit = fit_electrode(v, i, DT)
    assert fit.resistance == pytest.approx(50.0, rel=0.1) and fit.electrode_tau == pytest.approx(0.5, abs=0.15)
    assert fit.membrane_tau == pytest.approx(30.0, rel=0.05)
    assert fit.warnings == ()
    assert (fit.compensate(v, i) - membrane).std() < 0.12


def test_units_are_converted_and_checked():
    v, i, _ = cell_and_electrode(duration=5000.0)
    in_si = fit_electrode(v / 1e3, i / 1e3, DT / 1e3, voltage_unit="V", current_unit="nA", time_unit="s")
    in_mv = fit_electrode(v, i, DT)
    assert in_si.resistance == pytest.approx(in_mv.resistance) and in_si.dt == pytest.approx(DT)
    np.testing.assert_allclose(in_si.compensate(v / 1e3, i / 1e3, DT / 1e3, voltage_unit="V", current_unit="nA",
                                                time_unit="s"), in_mv.compensate(v, i), atol=1e-9)
    with pytest.raises(DataError, match="voltage_unit"):
        fit_electrode(v / 1e3, i, DT)  # volts read as mV
    with pytest.raises(DataError, match="current_unit"):
        fit_electrode(v, i / 1e3, DT)  # nA read as pA
    with pytest.raises(DataError, match="time_unit"):
        fit_electrode(v, i, DT / 1e3)
    with pytest.raises(DataError, match="cannot be converted"):
        fit_electrode(v, i, DT, current_unit="mV")
    with pytest.raises(DataError, match="resample"):
        in_mv.compensate(v, i, dt=0.05)
    with pytest.raises(DataError, match="same shape"):
        in_mv.compensate(v, i[:-1])
    with pytest.raises(DataError, match="voltage_unit"):
        in_mv.compensate(v / 1e3, i)
    with pytest.raises(DataError, match="too short"):
        fit_electrode(v[:2000], i[:2000], DT)


def test_sweeps_with_nan_padding_are_fitted_and_compensated_on_their_samples():
    v, i, membrane = cell_and_electrode(duration=8000.0)
    vs, cs = np.stack([v, v]), np.stack([i, i])
    vs[1, 50000:], cs[1, 50000:] = np.nan, np.nan  # a shorter second sweep, NaN-padded
    fit = fit_electrode(vs, cs, DT)
    assert fit.resistance == pytest.approx(30.0, rel=0.1)
    out = fit.compensate(vs, cs)
    assert np.isnan(out[1, 50000:]).all() and np.abs(out[1, :50000] - membrane[:50000]).std() < 0.11


def test_estimates_at_a_bound_and_spikes_in_the_sweep_are_flagged():
    v, i, _ = cell_and_electrode(rm=2000.0, tau_m=1e4)  # a membrane 10 s slow: its tau is far beyond the 3-50 ms fit
    assert any("search bound" in w for w in fit_electrode(v, i, DT).warnings)
    v, i, _ = cell_and_electrode()
    for k in range(20000, 90000, 10000):  # spikes pasted on the sweep
        v[k:k + 10] += np.array([5, 20, 50, 80, 90, 80, 50, 30, 15, 5.0])
    assert any("holds spikes" in w for w in fit_electrode(v, i, DT).warnings)


def _drn(cell: str, kind: str):
    from discover.recordings import read_recording

    folder, stem = {"5HT": ("DRN156_5HT", "DRN156_5ht"), "GABA": ("DRN158_GABA", "DRN158_gaba")}[cell]
    path = SHARED / folder / f"{stem}_{kind}.abf"
    if not path.is_file():
        pytest.skip(f"the shared dorsal raphe recordings are not at {path} (a user's clone does not have them)")
    rec = read_recording(path, channel=0, current_channel=1)  # the channel labels are swapped in these files
    return rec.signals["V"], rec.signals["I"], rec.dt, rec.time_unit


@pytest.mark.parametrize("cell, re, tau", [("5HT", 35.9, 11.9), ("GABA", 32.2, 24.2)])
def test_shared_raphe_cells(cell, re, tau):
    v, i, dt, unit = _drn(cell, "aec")
    fit = fit_electrode(v, i, dt, time_unit=unit)
    assert fit.resistance == pytest.approx(re, rel=0.05) and fit.membrane_tau == pytest.approx(tau, rel=0.1)
    assert fit.electrode_tau < 1.0 and fit.warnings == ()  # mostly instantaneous, resolved at 10 kHz
    # the electrode's instantaneous drop makes the recorded voltage step with the current; compensated, it does not
    compensated = fit.compensate(v, i)
    before = np.corrcoef(np.diff(v[0]), np.diff(i[0]))[0, 1]
    after = np.corrcoef(np.diff(compensated[0]), np.diff(i[0]))[0, 1]
    assert before > 0.5 and abs(after) < 0.15


def test_shared_gabaergic_cell_spike_thresholds_tighten_once_compensated():
    aec_v, aec_i, dt, unit = _drn("GABA", "aec")
    fit = fit_electrode(aec_v, aec_i, dt, time_unit=unit)
    v, i, _, _ = _drn("GABA", "training")
    raw, compensated = analyse_spikes(v, 0.1), analyse_spikes(fit.compensate(v, i), 0.1)
    # R_e times the current at each onset scattered the recorded thresholds: 6.4 mV IQR, 4.7 compensated
    assert compensated.threshold_spread < raw.threshold_spread - 1.0
    assert compensated.count == raw.count
