"""Spike-triggered adaptation as a hidden state: its trace along a recording, and its time
constant and strength estimated from the recording (AdEx's w with a = 0, Brette & Gerstner 2005)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from .._errors import DataError
from ..data import Trajectories
from ..equations import SpikeRule
from ..validate import spike_times
from ._membrane import estimate_passive, passive_fit


def add_adaptation(data: Trajectories, rule: SpikeRule, tau: float, name: str = "w") -> Trajectories:
    """`data` with one more state: a spike-triggered adaptation trace that jumps by 1 at each
    recorded spike and decays with time constant `tau`, w(t) = sum_k exp(-(t - t_k) / tau), from
    0 at the start of each sweep (sweeps are assumed to start at rest).

    This is the hidden state's trajectory implied by the known dynamics (dw/dt = -w / tau,
    w += 1 at a spike) and the recorded spike times, so every training window starts from the
    value the cell's own history gives it."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0 < tau < np.inf:
        raise DataError(f"adaptation time constant `tau` must be a positive time (in the data's "
                        f"time unit), got {tau!r}; e.g. 50.0 for 50 ms.")
    i = data.states.index(rule.state)
    trace = np.zeros(data.y.shape[:2])
    for k, y in enumerate(data.y[..., i]):
        for t_spike in spike_times(data.t, y, rule.threshold):
            after = data.t >= t_spike
            trace[k, after] += np.exp(-(data.t[after] - t_spike) / tau)
    return Trajectories(data.t, np.concatenate([data.y, trace[..., None]], axis=-1), data.u,
                        (*data.states, name), data.inputs)


def estimate_adaptation(data: Trajectories, rule: SpikeRule, *, bounds: tuple[float, float] = (5.0, 1000.0)
                        ) -> dict[str, float]:
    """The adaptation time constant `tau_w` (ms) whose trace best explains the subthreshold
    current, with C, gL, EL and the adaptation strength `a_w` (pA per unit of w) fitted with it.

    For each trial tau_w the passive fit I = C dV/dt + gL (V - EL) + a_w w is solved by least
    squares (`passive_fit` with the trace of `add_adaptation`); tau_w minimises its error over
    `bounds` (log-scaled search), and C, gL, EL and a_w at that tau_w are then refined by
    re-simulation (`estimate_passive`). On a simulated adapting cell this recovers tau_w and a_w
    within a few per cent (tests/cell/test_adaptation.py).
    """
    def error(log_tau: float) -> float:
        return passive_fit(add_adaptation(data, rule, float(np.exp(log_tau))), rule, adaptation="w")[1]

    lo, hi = np.log(bounds)
    grid = np.linspace(lo, hi, 9)  # the error can have shallow side minima: bracket the best grid point first
    best = int(np.argmin([error(x) for x in grid]))
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    found = minimize_scalar(error, bounds=(left, right), method="bounded", options={"xatol": 0.01})
    tau = float(np.exp(found.x))
    fitted = estimate_passive(add_adaptation(data, rule, tau), rule, adaptation="w")  # refined by re-simulation
    if fitted["a_w"] <= 0:
        raise DataError(f"the recording shows no spike-triggered adaptation (best a_w = {fitted['a_w']:.3g} pA at "
                        f"tau_w = {tau:.3g} ms, not positive); leave out `adaptation`.")
    return {**fitted, "tau_w": tau}
