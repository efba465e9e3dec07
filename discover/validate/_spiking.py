"""Re-simulate hybrid spiking models: the ODE between spikes, threshold, reset and refractoriness."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch

from .._errors import EquationError
from ..data import Trajectories
from ..equations import EquationSystem, SpikeRule, compile_numpy, compile_stacked
from ..integrate import rk4_substep
from ._metrics import ms_per_unit, spike_metrics

RHS = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EscapeNoise:
    """Stochastic spiking (escape noise): instead of at the threshold, the model spikes at a rate
    `rate` exp((V - threshold) / `delta_v`) (per time unit of the system), the threshold moving as
    the rule says. How GIF models are fitted and scored (Pozzorini et al. 2015); the deterministic
    rule is what the exports carry."""

    delta_v: float
    rate: float = 1.0

    def __post_init__(self) -> None:
        for name in ("delta_v", "rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < np.inf:
                raise EquationError(f"escape noise `{name}` must be a positive number, got {value!r}.")


def integrate_spiking(
    f: RHS, rule: SpikeRule, index: int, y0: np.ndarray, u: np.ndarray, dt: float, substeps: int = 1,
    names: tuple[str, ...] = (),
) -> np.ndarray:
    """Fixed-step RK4 of `dy/dt = f(y, u)` (numpy arrays) for a batch of trajectories, with state
    `index` reset by `rule` whenever it reaches the threshold (or the step blows up, which for
    an exponential spike-initiation term is the same event a little late). A moving threshold
    (`rule.moving`) is computed from the states after every substep.

    Inputs `u` `(batch, n_times, n_inputs)` are linearly interpolated between samples, as in
    training. The sample at which a spike happened reads the threshold at that sample (the
    fixed `rule.threshold`, or the moving one from that sample's states, the spike's jumps
    included); the refractory samples after it read the reset value. So `spike_signal(rule, out,
    names)` reads exactly `rule.threshold` at each model spike and less everywhere else, and
    `spike_times(t, spike_signal(...), rule.threshold)` finds the spikes (for a fixed threshold
    the signal is the trace itself). `names` (the states' names) locate the other states
    `rule.also` sets, `rule.add` increments and `rule.moving` reads. Returns `(batch, n_times, n_states)`.
    """
    located = _locate(rule, index, names)
    out = np.empty((np.shape(y0)[0], np.shape(u)[1], np.shape(y0)[1]))
    out[:, 0] = y0
    for k, y, spiked in _steps(f, located, y0, u, dt, substeps):
        out[:, k] = y
        out[spiked, k, located.watch] = located.level(out[spiked, k])
    return out


def spike_trains(f: RHS, rule: SpikeRule, index: int, y0: np.ndarray, u: np.ndarray, dt: float, substeps: int = 1,
                 names: tuple[str, ...] = (), escape: EscapeNoise | None = None, seed: int = 0,
                 shifts: np.ndarray | None = None) -> list[np.ndarray]:
    """The spike times (from the first sample, in the time unit of `dt`) of each trajectory of a
    batch integrated as `integrate_spiking` does, without keeping the traces: many runs of a
    stochastic model (`escape`, drawn with `seed`) over a long stimulus fit in memory. A spike's
    time is the end of the substep it happened in. `shifts` (one per trajectory) move each
    trajectory's threshold, so candidate thresholds are compared in one batch."""
    located = _locate(rule, index, names)
    if shifts is not None:
        located.shift = np.asarray(shifts, dtype=float)
    h = dt / substeps
    rng = np.random.default_rng(seed) if escape is not None else None
    times: list[list[float]] = [[] for _ in range(np.shape(y0)[0])]
    for k, _, fired_at in _steps(f, located, y0, u, dt, substeps, escape, rng, record_substep=True):
        for j, s in zip(*np.nonzero(fired_at), strict=True):
            times[j].append((k - 1) * dt + (s + 1) * h)
    return [np.array(t) for t in times]


def _locate(rule: SpikeRule, index: int, names: Sequence[str]) -> _Located:
    if (rule.moving or rule.watch is not None) and not names:
        what = f"a moving threshold reads the states {[n for n, _ in rule.moving]}" if rule.moving else \
            f"the rule watches the state {rule.watch!r}"
        raise EquationError(f"{what}; pass `names`, the states' names in the order of y0's columns.")
    return _Located(rule, index, names)


def _steps(f: RHS, located: _Located, y0, u, dt: float, substeps: int, escape: EscapeNoise | None = None,
           rng: np.random.Generator | None = None, record_substep: bool = False):
    """Yield (sample k >= 1, states at k, which spiked since k - 1) while integrating; with
    `record_substep`, the third item is (trajectories, substeps) of the substeps each spiked in."""
    h = dt / substeps
    y = np.array(y0, dtype=float)
    u = np.asarray(u, dtype=float)
    hold = np.zeros(y.shape[0])  # refractory time left, per trajectory
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a blow-up is a spike here, not a warning
        for k in range(u.shape[1] - 1):
            u0, du = u[:, k], u[:, k + 1] - u[:, k]
            spiked = np.zeros((y.shape[0], substeps), dtype=bool)
            for s in range(substeps):
                y, hold, spiked[:, s] = located.step(y, rk4_substep(f, y, u0, du, s, substeps, h), hold, h,
                                                     escape, rng)
            yield k + 1, y, (spiked if record_substep else spiked.any(axis=1))


class _Located:
    """A spike rule with its states located by column: the threshold and one substep's spikes."""

    def __init__(self, rule: SpikeRule, index: int, names: Sequence[str]) -> None:
        self.rule, self.index = rule, index
        self.watch = names.index(rule.watch) if rule.watch is not None else index  # the state that crosses
        self.also = [(names.index(n), v) for n, v in rule.also] if names else []
        self.add = [(names.index(n), v) for n, v in rule.add] if names else []
        self.moving = [(names.index(n), c) for n, c in rule.moving]
        self.shift: float | np.ndarray = 0.0

    def level(self, y: np.ndarray):
        """The threshold: a number, or one per trajectory where it moves (or is shifted)."""
        return self.rule.threshold + self.shift + sum(c * y[:, j] for j, c in self.moving)

    def step(self, before: np.ndarray, y: np.ndarray, hold: np.ndarray, h: float, escape: EscapeNoise | None = None,
             rng: np.random.Generator | None = None):
        """(states, refractory time left, which fired) after the substep `before` -> `y`; with
        `escape`, a spike is drawn at the escape rate instead of at the threshold."""
        rule, index = self.rule, self.index
        v, watched = y[:, index], y[:, self.watch]
        gap = watched - self.level(y)  # below the threshold: < 0
        held = hold > 0.5 * h  # not > 0: 2.0 - 200 * 0.01 leaves 1e-15 and one step too many
        if escape is None:
            fired = ~held & ~(gap < 0)  # NaN and inf count as reaching it
        else:  # the probability of at least one event of the rate over the substep
            assert rng is not None  # made wherever an escape rate is given
            rate = escape.rate * np.exp(np.minimum(gap / escape.delta_v, 50.0))
            fired = ~held & ((rng.random(v.size) < -np.expm1(-h * rate)) | ~np.isfinite(watched))
        if not (fired.any() or held.any()):  # most substeps: nothing fires or is held, the step stands
            return y, hold, fired
        # the other states at the crossing, linearly between the step's ends: a step that blew up
        # (AdEx's V to 1e20) took them with it (w to 7e11, read off that V), and there the
        # crossing is at the step's start
        if escape is None:
            gap_before = before[:, self.watch] - self.level(before)
            theta = np.nan_to_num(np.clip(gap_before / (gap_before - gap), 0, 1))
            crossing = before + theta[:, None] * (y - before)
            y = np.where(fired[:, None], np.where(np.isfinite(crossing), crossing, before), y)
        hold = np.where(held, hold - h, np.where(fired, rule.refractory, hold))
        y[:, index] = np.where(held | fired, rule.reset, v)
        for j, value in self.also:
            y[:, j] = np.where(fired, value, y[:, j])
        for j, amount in self.add:
            y[:, j] = np.where(fired, y[:, j] + amount, y[:, j])
        return y, hold, fired


def spike_signal(rule: SpikeRule, y: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The trace whose upward crossings of `rule.threshold` are `rule`'s spikes: the spiking state
    minus the moving part of the threshold, `threshold + (state - moving threshold)`; for a fixed
    threshold, the spiking state itself. `y` `(..., n_states)` holds the states `rule` names
    (columns named by `names`), e.g. a trace of `integrate_spiking` or of `simulate`.

    It reads `rule.threshold` or more where the state has reached its moving threshold, to within
    rounding: a spike sample of `integrate_spiking` holds V set to the threshold its states give,
    and recomputing that sum in another order can leave V 1e-14 below it (a missed spike, seen on a
    GIF model); no sample between spikes comes within 1e-9 of the threshold without reaching it."""
    names = list(names)
    v = np.asarray(y, dtype=float)[..., names.index(rule.watched)]
    if not rule.moving:
        return v
    with np.errstate(invalid="ignore"):
        gap = v - rule.threshold_at(y, names)
        reached = gap >= -1e-9 * (1.0 + abs(rule.threshold))
        below = np.minimum(rule.threshold + gap, np.nextafter(rule.threshold, -np.inf))
        return np.where(reached, rule.threshold + np.maximum(gap, 0.0), below)


def rule_spike_metrics(system: EquationSystem, data: Trajectories, predicted: np.ndarray) -> dict[str, float]:
    """`spike_metrics` (Gamma, spike-count error) of `predicted` `(batch, n_times, n_states)`, columns
    named by `data.states`, against `data`, the spikes of both found by `system`'s rule: upward
    crossings of its threshold by `spike_signal`, as a moving threshold needs."""
    rule = system.spike
    if rule is None:
        raise EquationError(f"`{system.name}` has no spike rule; spike metrics need one (a system with `spike`).")
    with np.errstate(invalid="ignore"):  # a blown-up trace compares NaN with the threshold
        observed, found = spike_signal(rule, data.y, data.states), spike_signal(rule, predicted, data.states)
        return spike_metrics(data.t, observed, found, rule.threshold, ms_per_unit(system.time_unit))


def resimulate_spiking(system: EquationSystem, data: Trajectories, substeps: int = 1,
                       f: RHS | None = None) -> np.ndarray:
    """Re-simulate `data` (from each trajectory's first sample, with its inputs) with `system`'s
    spike rule; `f` (numpy in, numpy out) replaces the closed-form right-hand side, e.g.
    `torch_rhs(model)` of a fitted UDE."""
    rule = system.spike
    if rule is None:
        raise EquationError(f"`{system.name}` has no spike rule; re-simulate it with `resimulate` instead.")
    f = compile_numpy(system) if f is None else f
    return integrate_spiking(f, rule, system.state_index(rule.state), data.y[:, 0], data.u, data.dt, substeps,
                             system.states)


def resimulate_spiking_together(models: Mapping[str, EquationSystem | RHS], system: EquationSystem,
                                data: Trajectories, substeps: int = 1) -> dict[str, np.ndarray]:
    """`resimulate_spiking` of several models as one batch, one loop over the samples: the closed
    systems' rows through `compile_stacked` (one call per stage for all of them), each function
    (numpy in, numpy out: a UDE's `HybridODE.numpy()`) on its own rows. Every model must have
    `system`'s states, inputs and spike rule. Returns name -> `(trajectories, samples, states)`."""
    rule = system.spike
    if rule is None:
        raise EquationError(f"`{system.name}` has no spike rule; re-simulate it with `resimulate` instead.")
    closed = {name: m for name, m in models.items() if isinstance(m, EquationSystem)}
    for name, m in closed.items():
        if (m.states, m.inputs, m.spike) != (system.states, system.inputs, rule):
            raise EquationError(f"model {name!r} differs from `{system.name}` in its states, inputs or spike rule; "
                                "re-simulate it on its own with `resimulate_spiking`.")
    n = data.n_trajectories
    order = [*closed, *(name for name in models if name not in closed)]
    parts: list[RHS] = [compile_stacked(list(closed.values()), n)] if closed else []
    parts += [cast(RHS, models[name]) for name in order[len(closed):]]
    sizes = [n * len(closed)] * bool(closed) + [n] * (len(order) - len(closed))
    edges = np.cumsum([0, *sizes])

    def f(y: np.ndarray, u: np.ndarray) -> np.ndarray:
        return np.concatenate([g(y[a:b], u[a:b]) for g, a, b in zip(parts, edges[:-1], edges[1:], strict=True)])

    out = integrate_spiking(f, rule, system.state_index(rule.state), np.tile(data.y[:, 0], (len(order), 1)),
                            np.tile(data.u, (len(order), 1, 1)), data.dt, substeps, system.states)
    return {name: out[k * n:(k + 1) * n] for k, name in enumerate(order)}


def torch_rhs(model: torch.nn.Module) -> RHS:
    """A torch right-hand side (e.g. a UDE's hybrid model) as a numpy function, in float64: the
    model's own `numpy()` where it has one (a `HybridODE`: no torch call per step), else the
    model called under `no_grad`."""
    own = getattr(model, "numpy", None)
    if callable(own):
        return own()
    model = copy.deepcopy(model).double()

    def f(y: np.ndarray, u: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(y), torch.from_numpy(u)).numpy()

    return f
