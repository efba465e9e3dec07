"""End-to-end discovery on a small FitzHugh–Nagumo case: the recovered equation is asserted.

The whole-pipeline tests run in the slow tier (`pytest -m slow`), on one discovery shared through the
session fixture `small_fhn_discovery` (~30 s); the fast tier checks what fails before training."""

import numpy as np
import pytest
import sympy as sp

from discover import ConfigError, discover, example_data
from tests.helpers import SMALL_DISTILL, SMALL_TRAINING, fhn_known

v = sp.Symbol("v", real=True)


@pytest.mark.slow  # the small discovery (session fixture, ~30 s)
def test_recovers_fhn_cubic_exactly(small_fhn_discovery):
    term = small_fhn_discovery.discovered.discovered["v"]
    coefs = term.as_coefficients_dict()
    assert set(coefs) == {v, v**3}, f"recovered {term}"
    assert float(coefs[v]) == pytest.approx(1.0, rel=0.03)
    assert float(coefs[v**3]) == pytest.approx(-1 / 3, rel=0.03)


@pytest.mark.slow  # the small discovery (session fixture, ~30 s)
def test_every_record_of_the_discovered_model_shows_the_final_one(small_fhn_discovery):
    # the provenance and metrics.json's routes showed the terms before the final refit and rounding,
    # while equations.json and the exports carried the refitted ones
    d = small_fhn_discovery
    final = sp.sstr(d.discovered.discovered["v"])
    assert d.routes["routes"][d.routes["chosen"]]["terms"] == {"v": str(d.discovered.discovered["v"])}
    last = [line for line in d.discovered.provenance if "dv/dt" in line][-1]
    assert last.endswith(f"dv/dt term {final}"), last


@pytest.mark.slow  # the small discovery (session fixture, ~30 s)
def test_heldout_resimulation_reproduces_data(small_fhn_discovery):
    m = small_fhn_discovery.metrics
    for state in ("v", "w"):
        assert m["discovered"][state]["nrmse"] < 0.1
        assert m["discovered"][state]["r2"] > 0.99
        # the known part alone cannot: that is why there was a term to discover
        assert m["known only"][state]["nrmse"] > 10 * m["discovered"][state]["nrmse"]


@pytest.mark.slow  # the small discovery (session fixture, ~30 s)
def test_training_improves_on_the_prefit(small_fhn_discovery):
    ude = small_fhn_discovery.ude
    n_prefit = ude.prefit_iterations
    traj_losses = ude.loss_history_[n_prefit:]
    assert np.mean(traj_losses[-10:]) < np.mean(traj_losses[:10])


def test_unknown_option_fails_before_training():
    train, heldout = example_data(n_train=1, n_heldout=1, duration=5.0)
    with pytest.raises(ConfigError, match="Did you mean `iterations`"):
        discover(train, fhn_known(), heldout, training={"iteratons": 5})


@pytest.mark.slow  # about 1 minute: a second whole discovery
def test_same_seed_gives_same_equation_and_metrics(small_fhn_discovery):
    d = small_fhn_discovery
    again = discover(d.train, fhn_known(), d.heldout, training=SMALL_TRAINING, distill=SMALL_DISTILL, progress=False)
    assert again.discovered.discovered == d.discovered.discovered
    assert again.metrics == d.metrics


def test_voltage_in_the_wrong_unit_is_refused_before_training():
    from discover import DataError, Trajectories, simulate
    from discover.models import get_model

    adex = get_model("adex").without_terms("V", ["g_L*Delta_T*exp((V - V_T)/Delta_T)/C"]).with_residual("V", ["V", "w"])
    t = np.arange(0, 20.0, 0.1)
    data = simulate(get_model("adex"), [[-65.0, 0.0]], t, {"I": 100.0})
    in_volts = Trajectories(data.t, data.y * np.array([1e-3, 1.0]), data.u, data.states, data.inputs)
    with pytest.raises(DataError, match=r"'V' is declared in mV .* looks like volts. Multiply it by 1000"):
        discover(in_volts, adex, data, progress=False)
