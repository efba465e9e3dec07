"""The membrane's numbers refitted on the voltage itself (output error), after regression chose its terms.

`fit_membrane` regresses dV/dt on V, I and the spike-history traces: fast, and the right tool for
choosing terms on held-out blocks, but it treats the recorded V as exact. V's own fluctuations (the
noise the recorded current does not explain) then bias the coefficients, and a small error in dV/dt
per sample adds up over the membrane's time constant into a voltage the model does not follow
(on the shared serotonergic cell the regression's membrane explains 0.89 of the training voltage
with the spikes forced, 0.87 of the held-out repeats'). Re-simulating the membrane driven by the
recorded current, spikes forced at the recorded onsets, and fitting C, gL, EL and the amplitudes of
the chosen currents to the voltage error is what `refine_passive` does for the passive part and what
GIF fitting reports (raphegif's `var_explained_V`). The terms and their time constants stay as
regression chose them.

An A-type gate's current enters along the recorded voltage (its conductance refitted, its curves
kept): with it the membrane is nonlinear and each re-simulation a Python loop over every sample,
hundreds of times slower than the filter the linear membrane is. `explained_v` is then recomputed
with the gate run on the model's own voltage.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

from ._gate import unit_columns
from ._gif import Membrane, Recorded, _with_explained_v, held_after_spikes, linear_forced, spike_traces

ITERATIONS = 60
"""Least-squares evaluations at most (each re-simulates every sweep once)."""


@dataclasses.dataclass(frozen=True)
class _Sweep:
    v: np.ndarray
    current: np.ndarray  # the recorded current, pA
    traces: np.ndarray  # (samples, currents): the spike-triggered traces
    gate: np.ndarray | None  # minus the gate's outward current per nS along the recorded V, pA
    held: np.ndarray
    keep: np.ndarray


def refine_membrane(m: Membrane, rec: Recorded, reset: float, refractory: float, *, before: float = 5.0,
                    iterations: int = ITERATIONS) -> Membrane:
    """`m` with C, gL, EL, the spike-triggered currents' amplitudes and the gate's conductance
    refitted by output error on the samples `fit_membrane` read (C, gL and g on a log scale, so
    they stay positive); `m` itself when the refit does not lower the voltage error (with a gate,
    as the gate run on the model's own voltage gives it, not only along the recorded one)."""
    sweeps = [_sweep(m, rec, k, refractory, before) for k in range(len(rec.v))]
    n_cur = len(m.currents)
    start = np.array([np.log(m.C), np.log(m.gL), m.EL, *(a for _, a in m.currents),
                      *([np.log(max(m.gate.g, 1e-6))] if m.gate is not None else [])])

    def errors(p: np.ndarray) -> np.ndarray:
        C, gL, EL = float(np.exp(p[0])), float(np.exp(p[1])), float(p[2])
        amplitudes, g = p[3:3 + n_cur], (float(np.exp(p[-1])) if m.gate is not None else 0.0)
        return np.concatenate([_voltage_error(s, C, gL, EL, amplitudes, g, reset, rec.dt) for s in sweeps])

    scale = np.concatenate([[1.0, 1.0, 10.0], np.maximum(np.abs(start[3:3 + n_cur]), 10.0),
                            [1.0] * (m.gate is not None)])
    with np.errstate(all="ignore"):
        before_sq = float(np.mean(errors(start) ** 2))
        found = least_squares(errors, start, x_scale=scale, max_nfev=iterations)
    if not (np.all(np.isfinite(found.x)) and float(np.mean(found.fun ** 2)) < before_sq):
        return m
    p = found.x
    currents = tuple((tau, float(a)) for (tau, _), a in zip(m.currents, p[3:3 + n_cur], strict=True))
    gate = dataclasses.replace(m.gate, g=float(np.exp(p[-1]))) if m.gate is not None else None
    refined = dataclasses.replace(m, C=float(np.exp(p[0])), gL=float(np.exp(p[1])), EL=float(p[2]),
                                  currents=currents, gate=gate)
    refined = _with_explained_v(refined, rec, reset, refractory, before)
    return refined if m.gate is None or refined.explained_v > m.explained_v else m


def _sweep(m: Membrane, rec: Recorded, k: int, refractory: float, before: float) -> _Sweep:
    v, onsets = rec.v[k], rec.onsets[k]
    taus = [tau for tau, _ in m.currents]
    # the regression's own gate column (-m_inf h (V - E_K) per unit conductance): an inward sign
    gate = unit_columns((m.gate,), v, rec.dt)[:, 0] if m.gate is not None else None
    return _Sweep(v, rec.i[k].astype(float), spike_traces(onsets, v.size, rec.dt, taus), gate,
                  held_after_spikes(onsets, v.size, rec.dt, refractory), rec.quiet(k, before, refractory))


def _voltage_error(s: _Sweep, C: float, gL: float, EL: float, amplitudes: np.ndarray, g: float, reset: float,
                   dt: float) -> np.ndarray:
    """The model's voltage minus the recorded one on the kept samples (`forced_voltage`'s step)."""
    current = s.current - s.traces @ amplitudes
    if s.gate is not None:
        current = current + g * s.gate
    return (linear_forced(C, gL, EL, current, s.held, float(s.v[0]), reset, dt) - s.v)[s.keep]
