"""The membrane's numbers refitted on the voltage: kept where regression was right, closer to the
truth where the voltage carries noise the recorded current does not explain."""

import numpy as np
import pytest

from discover.cell import simulate_gif
from discover.cell._gif import Recorded, fit_membrane
from discover.cell._refine import refine_membrane
from tests.helpers import GIF_DT as DT, GIF_TRUE as TRUE, ou_current as noise


def _recorded(hidden_sd: float) -> Recorded:
    """40 s of the true cell under a noise current, plus (when `hidden_sd` > 0) an unrecorded
    current of that spread (5 ms correlation: channel noise, synaptic input) the model never sees."""
    i = noise(40.0, seed=1)
    hidden = noise(40.0, seed=5, mean=0.0, sd=hidden_sd) if hidden_sd else np.zeros_like(i)
    (spikes,), v = simulate_gif(TRUE, i + hidden, DT, stochastic=True, seed=2)
    return Recorded((v,), (i,), (np.round(spikes / DT).astype(int) - 1,), DT)


def test_refit_keeps_a_membrane_regression_got_right():
    rec = _recorded(0.0)
    m = refine_membrane(fit_membrane(rec, TRUE.reset, TRUE.refractory), rec, TRUE.reset, TRUE.refractory)
    assert m.C == pytest.approx(100.0, rel=0.03) and m.gL == pytest.approx(5.0, rel=0.03)
    assert m.EL == pytest.approx(-65.0, abs=0.5)
    assert dict(m.currents) == pytest.approx({30.0: 40.0, 300.0: 8.0}, rel=0.1)
    assert m.explained_v > 0.99


def test_refit_undoes_the_bias_unexplained_noise_gives_regression():
    # regressing dV/dt on V, whose fluctuations the hidden current drives, pulls gL down and EL away
    # from rest (4.05 nS and -70.6 mV here, for 5 and -65); re-simulating the voltage does not
    rec = _recorded(40.0)
    regressed = fit_membrane(rec, TRUE.reset, TRUE.refractory)
    refined = refine_membrane(regressed, rec, TRUE.reset, TRUE.refractory)
    assert abs(refined.gL - 5.0) < 0.6 * abs(regressed.gL - 5.0)
    assert abs(refined.EL + 65.0) < 0.6 * abs(regressed.EL + 65.0)
    assert refined.explained_v > regressed.explained_v + 0.02
    assert [tau for tau, _ in refined.currents] == [tau for tau, _ in regressed.currents]  # the terms stay
