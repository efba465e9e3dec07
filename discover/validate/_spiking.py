"""Re-simulate hybrid spiking models: the ODE between spikes, threshold, reset and refractoriness."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from ..data import Trajectories
from ..equations import EquationSystem, SpikeRule, compile_numpy
from ..ude._solvers import rk4_substep

RHS = Callable[[np.ndarray, np.ndarray], np.ndarray]


def integrate_spiking(
    f: RHS, rule: SpikeRule, index: int, y0: np.ndarray, u: np.ndarray, dt: float, substeps: int = 1,
    names: tuple[str, ...] = (),
) -> np.ndarray:
    """Fixed-step RK4 of `dy/dt = f(y, u)` (numpy arrays) for a batch of trajectories, with state
    `index` reset by `rule` whenever it reaches the threshold (or the step blows up, which for
    an exponential spike-initiation term is the same event a little late).

    Inputs `u` `(batch, n_times, n_inputs)` are linearly interpolated between samples, as in
    training. The sample at which a spike happened reads exactly the threshold, so the returned
    trace crosses it once per model spike (`spike_times(t, v, rule.threshold)` finds them);
    the refractory samples after it read the reset value. `names` (the states' names) locate
    the other states `rule.also` sets and `rule.add` increments. Returns `(batch, n_times, n_states)`.
    """
    h = dt / substeps
    also = [(names.index(n), v) for n, v in rule.also] if names else []
    add = [(names.index(n), v) for n, v in rule.add] if names else []
    y = np.array(y0, dtype=float)
    u = np.asarray(u, dtype=float)
    hold = np.zeros(y.shape[0])  # refractory time left, per trajectory
    out = np.empty((y.shape[0], u.shape[1], y.shape[1]))
    out[:, 0] = y
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a blow-up is a spike here, not a warning
        for k in range(u.shape[1] - 1):
            u0, du = u[:, k], u[:, k + 1] - u[:, k]
            spiked = np.zeros(y.shape[0], dtype=bool)
            for s in range(substeps):
                before, y = y, rk4_substep(f, y, u0, du, s, substeps, h)
                v = y[:, index]
                held = hold > 0.5 * h  # not > 0: 2.0 - 200 * 0.01 leaves 1e-15 and one step too many
                fired = ~held & ~(v < rule.threshold)  # NaN and inf count as reaching it
                # the other states at the crossing, linearly between the step's ends: a step that
                # blew up (AdEx's V to 1e20) took them with it (w to 7e11, read off that V), and
                # there the crossing is at the step's start
                theta = np.nan_to_num(np.clip((rule.threshold - before[:, index]) / (v - before[:, index]), 0, 1))
                crossing = before + theta[:, None] * (y - before)
                y = np.where(fired[:, None], np.where(np.isfinite(crossing), crossing, before), y)
                hold = np.where(held, hold - h, np.where(fired, rule.refractory, hold))
                y[:, index] = np.where(held | fired, rule.reset, v)
                for j, value in also:
                    y[:, j] = np.where(fired, value, y[:, j])
                for j, amount in add:
                    y[:, j] = np.where(fired, y[:, j] + amount, y[:, j])
                spiked |= fired
            out[:, k + 1] = y
            out[spiked, k + 1, index] = rule.threshold
    return out


def resimulate_spiking(system: EquationSystem, data: Trajectories, substeps: int = 1, f: RHS | None = None) -> np.ndarray:
    """Re-simulate `data` (from each trajectory's first sample, with its inputs) with `system`'s
    spike rule; `f` (numpy in, numpy out) replaces the closed-form right-hand side, e.g.
    `torch_rhs(model)` of a fitted UDE."""
    rule = system.spike
    f = compile_numpy(system) if f is None else f
    return integrate_spiking(f, rule, system.state_index(rule.state), data.y[:, 0], data.u, data.dt, substeps,
                             system.states)


def torch_rhs(model: torch.nn.Module) -> RHS:
    """A torch right-hand side (e.g. a UDE's hybrid model) as a numpy function, in float64."""
    model = copy.deepcopy(model).double()

    def f(y: np.ndarray, u: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(y), torch.from_numpy(u)).numpy()

    return f
