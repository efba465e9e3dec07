"""A spiking model's terms chosen by the spike times they give on whole training sweeps."""

import numpy as np
import pytest
import sympy as sp

from discover._candidate import Candidate, complexity
from discover.cell import estimate_spike_rule, membrane_system, spike_free_chunks
from discover.choose import StateDistillation, choose_by_spike_times, refit_coefficients
from tests.helpers import RULE, TRUE, steps

V = sp.Symbol("V")
# the EIF's spike-initiation current / C (dT = 2 mV, VT = -50 mV): what the residual should be
EXPONENTIAL = sp.Float(0.1) * sp.exp(sp.Float(0.5) * V + sp.Float(25.0))
# an outward current at depolarised V (30 nS more leak): the model never reaches threshold
OUTWARD = sp.Float(-0.3) * V - sp.Float(18.0)


def front(*terms):
    candidates = tuple(Candidate(t, complexity(t), 0.1, "test") for t in terms)
    return {"V": StateDistillation("V", candidates, candidates, (0.1,) * len(terms), candidates[0], "test")}


@pytest.fixture(scope="module")
def cell():
    """Two sweeps of the simulated EIF and its membrane system with a residual (simulated once)."""
    data = steps(n_sweeps=2)
    return data, membrane_system(TRUE, estimate_spike_rule(data, RULE.threshold))


def test_front_candidate_that_spikes_replaces_a_window_chosen_term_that_never_does(cell):
    data, system = cell
    discovered = system.replace_residuals({"V": OUTWARD}, how="window-chosen")
    chosen, record = choose_by_spike_times(system, discovered, front(OUTWARD, EXPONENTIAL), data, substeps=2)
    assert record["chosen"] == f"dV/dt term {EXPONENTIAL}"
    assert chosen.discovered["V"] == EXPONENTIAL
    assert record["gamma"]["discovered"] == 0.0  # the outward term: no spikes at all
    assert record["gamma"][record["chosen"]] > 0.95  # the true term: the data's own spike times
    assert record["gamma"]["known part only"] < record["gamma"][record["chosen"]] - 0.2
    assert "known part alone" in record["reason"]


def test_known_part_alone_is_kept_when_no_term_improves_spike_times(cell):
    data, system = cell
    discovered = system.replace_residuals({"V": OUTWARD}, how="window-chosen")
    chosen, record = choose_by_spike_times(system, discovered, front(OUTWARD), data, substeps=2)
    assert record["chosen"] == "known part only"
    assert chosen.discovered == {"V": 0}
    assert record["gamma"]["known part only"] > record["gamma"]["discovered"]


def test_a_model_too_fast_for_gamma_scores_as_a_failure_not_as_missing(cell):
    """Gamma is undefined for a train at 1 / (2 x 4 ms) or faster; such a model predicted no spike
    time, so it scores 0 on those sweeps (not left out of the mean) and loses."""
    data, system = cell
    racing = sp.Float(50.0)  # 50 mV/ms inward: a spike every refractory period
    discovered = system.replace_residuals({"V": racing}, how="window-chosen")
    chosen, record = choose_by_spike_times(system, discovered, front(racing, EXPONENTIAL), data, substeps=2)
    assert record["gamma"]["discovered"] == 0.0
    assert record["chosen"] == f"dV/dt term {EXPONENTIAL}"


def test_window_chosen_term_that_fires_the_data_spike_counts_is_kept_though_its_spikes_drift(cell):
    """On steps a 10 % smaller initiation current lengthens every interspike interval a little: the
    spike counts stay right (error 2 %) while the spikes drift out of Gamma's window (0.67). It has
    not lost the spike times, so it is kept over a better-timed rival with more constants."""
    data, system = cell
    drifting = sp.Float(0.09) * sp.exp(sp.Float(0.5) * V + sp.Float(25.0))
    rival = EXPONENTIAL + sp.Float(1e-6) * V
    discovered = system.replace_residuals({"V": drifting}, how="window-chosen")
    chosen, record = choose_by_spike_times(system, discovered, front(drifting, rival), data, substeps=2)
    assert record["gamma"][f"dV/dt term {rival}"] > record["gamma"]["discovered"] + 0.2  # the rival times better
    assert record["spike_count_error"]["discovered"] < 0.1
    assert record["chosen"] == "discovered" and chosen.discovered["V"] == drifting
    assert "spike counts" in record["reason"]


def _refit_on_pieces(data, system):
    """The pipeline's refit of a replacement: its numbers through the solver on spike-free pieces."""
    pieces = spike_free_chunks(data, system.spike, 24)

    def refit(model):
        fitted, before, after = refit_coefficients(model, pieces, window=8, substeps=2)
        return fitted, {"window_error_before": before, "window_error_after": after}
    return refit


def test_a_replacement_is_refit_through_the_solver_before_it_is_kept(cell):
    """A front candidate is scored as its distiller fitted it; the one that replaces the
    window-chosen term is refit as that term was. An exponential with the initiation slope 10 %
    off (0.45 for 0.5, the same current at -50 mV) comes back to the truth's slope and prefactor:
    the refit moves the prefactor in log units, along the valley c exp(b V) = exp(b (V - V0))."""
    data, system = cell
    skewed = sp.Float(0.1) * sp.exp(sp.Float(0.45) * V + sp.Float(22.5))
    discovered = system.replace_residuals({"V": OUTWARD}, how="window-chosen")
    chosen, record = choose_by_spike_times(system, discovered, front(OUTWARD, skewed), data, substeps=2,
                                           refit=_refit_on_pieces(data, system))
    assert record["chosen"] == f"dV/dt term {skewed}"
    assert record["refit"]["kept"] and record["refit"]["gamma"] > 0.95
    (exp,) = chosen.discovered["V"].atoms(sp.exp)
    slope = float(exp.args[0].coeff(V))
    coefficient = float(chosen.discovered["V"].coeff(exp))
    assert slope == pytest.approx(0.5, rel=0.02)
    # the truth's 0.1 e^25 exp(0.5 V), at V = -50 mV (where the pieces pin it): 0.1
    assert coefficient * np.exp(slope * -50.0) == pytest.approx(0.1, rel=0.05)
    assert "refit through the solver" in record["reason"]


def test_a_refit_that_loses_the_spike_times_is_not_kept(cell):
    data, system = cell
    discovered = system.replace_residuals({"V": OUTWARD}, how="window-chosen")
    worse = system.replace_residuals({"V": OUTWARD}, how="a refit gone wrong")
    chosen, record = choose_by_spike_times(system, discovered, front(OUTWARD, EXPONENTIAL), data, substeps=2,
                                           refit=lambda model: (worse, {}))
    assert chosen.discovered["V"] == EXPONENTIAL
    assert not record["refit"]["kept"] and record["refit"]["gamma"] == 0.0
    assert "not kept" in record["reason"]
