"""Candidates scored by re-simulation on held-out windows, as a whole discovery records them."""

import pytest


@pytest.mark.slow  # the small FitzHugh–Nagumo discovery (session fixture, ~30 s)
def test_discovery_records_scored_candidates_front_and_reason(small_fhn_discovery):
    d = small_fhn_discovery.distillation["v"]
    assert d.chosen in d.scored and len(d.scores) == len(d.scored)
    assert all(c in d.scored for c in d.pareto) and d.score_name in d.reason
    assert {"sparse", "symbolic"} <= {c.source.split()[0] for c in d.candidates}
    assert "re-simulation" in d.reason
    assert small_fhn_discovery.refit["window_error_after"] <= small_fhn_discovery.refit["window_error_before"]


@pytest.mark.slow  # the small FitzHugh–Nagumo discovery (session fixture, ~30 s)
def test_candidates_are_chosen_on_held_out_windows(small_fhn_discovery):
    d = small_fhn_discovery
    assert d.selection["held_out"] and d.selection["fraction"] == 0.2
    assert "held-out window" in d.distillation["v"].reason
    # the network was trained on the first 80 % of each trajectory only
    assert d.ude.model_ is not None
    assert d.selection["samples_per_trajectory"] == d.train.t.size - round(0.8 * d.train.t.size)
