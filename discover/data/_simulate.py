"""Synthetic data from any closed `EquationSystem`, reproducible by seed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import SimpleNamespace

import numpy as np
from scipy.integrate import solve_ivp

from .._errors import DataError, FitError, did_you_mean
from ..equations import EquationSystem, compile_numpy
from ._trajectories import Trajectories

_BLOW_UP = 1e9
InputSpec = float | np.ndarray | Callable[[np.ndarray], np.ndarray]


def simulate(
    system: EquationSystem,
    y0: np.ndarray,
    t: np.ndarray,
    inputs: Mapping[str, InputSpec] | None = None,
    *,
    noise: float = 0.0,
    noise_model: str = "additive",
    seed: int | None = 0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> Trajectories:
    """Integrate `system` from each row of `y0` and sample it at `t`.

    **Arguments:**
    - `y0`: initial states, shape `(n_trajectories, n_states)` (or `(n_states,)`).
    - `t`: uniform sample times.
    - `inputs`: per input name, a constant, an array sampled on `t` (`(n_times,)` for all
      trajectories or `(n_trajectories, n_times)`), or a function of time. Inputs are linearly
      interpolated between samples.
    - `noise`: Gaussian observation noise as a fraction: of each state's standard deviation over
      the clean data (`noise_model="additive"`), or of each sample's own value
      (`noise_model="multiplicative"`, y * (1 + noise * N(0, 1))).
    - `seed`: seeds the noise.

    A spiking system (`system.spike`) is integrated as the hybrid model it is: each threshold
    crossing is found as a solver event, then the reset, the other states' jumps and the
    refractory period apply (see `SpikeRule`). The first sample at or after each spike reads the
    threshold (a moving one: its value there, `SpikeRule.threshold_at`), as in
    `validate.integrate_spiking` and as a recorded spike's peak would: a reset
    between two samples would otherwise leave no trace that `spike_times` (and the training
    chunks cut between spikes) could find. Observation noise leaves those marks alone.
    """
    y0, t = _checked_start(system, y0, t)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 10:
        raise DataError(f"`noise` must be a fraction between 0 and 10 (0.01 is 1 %), got {noise!r}.")
    if noise_model not in ("additive", "multiplicative"):
        raise DataError(f"`noise_model` must be 'additive' or 'multiplicative', got {noise_model!r}.")
    u = _input_grid(system, inputs or {}, t, y0.shape[0])
    y = integrate(system, y0, t, u, rtol=rtol, atol=atol)
    if noise > 0:
        scale = y.reshape(-1, y.shape[-1]).std(axis=0) if noise_model == "additive" else np.abs(y)
        clean, y = y, y + np.random.default_rng(seed).normal(size=y.shape) * noise * scale
        if system.spike is not None:  # keep the spike marks on the threshold: noise would hide half of them
            rule, i = system.spike, system.state_index(system.spike.state)
            marked = clean[..., i] == rule.threshold_at(clean, system.states)  # a moving one: on the noisy states'
            on_threshold = rule.threshold_at(y, system.states) if rule.moving else clean[..., i]
            y[..., i] = np.where(marked, on_threshold, y[..., i])
    return Trajectories(t, y, u, system.states, system.inputs)


def _checked_start(system: EquationSystem, y0, t) -> tuple[np.ndarray, np.ndarray]:
    try:
        y0, t = np.atleast_2d(np.asarray(y0, dtype=float)), np.asarray(t, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"`y0` and `t` must be numeric arrays ({exc}).") from None
    if y0.ndim != 2 or y0.shape[-1] != len(system.states) or y0.shape[0] == 0:
        raise DataError(f"`y0` has shape {y0.shape}; give (n_trajectories, {len(system.states)}) initial values "
                        f"of the states {list(system.states)}.")
    if not np.all(np.abs(y0) < _BLOW_UP):  # also NaN; beyond _BLOW_UP the solver's blow-up guard is blind
        raise DataError(f"`y0` holds NaN, inf or values beyond {_BLOW_UP:g}: {y0.tolist()!r:.120}; "
                        "give finite initial states in the model's units.")
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
        raise DataError(f"`t` must be 1-D, finite and strictly increasing with at least 2 samples, got "
                        f"{t.tolist()!r:.120}; e.g. np.linspace(0, 100, 1001).")
    return y0, t


def _input_grid(system: EquationSystem, inputs: Mapping[str, InputSpec], t: np.ndarray, n: int) -> np.ndarray:
    for name in inputs:
        if name not in system.inputs:
            raise DataError(f"input {name!r} is not an input of the system {list(system.inputs)}."
                            f"{did_you_mean(name, system.inputs)}")
    u = np.zeros((n, t.size, len(system.inputs)))
    for j, name in enumerate(system.inputs):
        if name not in inputs:
            raise DataError(f"input {name!r} has no value; pass inputs={{{name!r}: ...}}.")
        spec = inputs[name]
        value = spec(t) if callable(spec) else np.asarray(spec, dtype=float)
        try:
            u[:, :, j] = np.broadcast_to(value, (n, t.size))
        except ValueError:
            raise DataError(
                f"input {name!r} has shape {np.shape(value)}; give a number, ({t.size},) or ({n}, {t.size})."
            ) from None
    return u


def integrate(
    system: EquationSystem, y0: np.ndarray, t: np.ndarray, u: np.ndarray, *,
    rtol: float = 1e-8, atol: float = 1e-10, on_failure: str = "raise",
) -> np.ndarray:
    """Integrate from each row of `y0` with inputs `u` `(n, n_times, n_inputs)` sampled on `t`.

    `on_failure`: "raise" (a `FitError`) or "nan" (samples after a blow-up are NaN, so a
    diverging candidate model can be scored instead of crashing the run).
    """
    rhs = compile_numpy(system)
    one = (_integrate_one if system.spike is None
           else partial(_integrate_spiking, rule=system.spike, states=system.states))
    return np.stack([one(rhs, y0[k], t, u[k], rtol, atol, on_failure) for k in range(len(y0))])


def _blow_up(time: float, y: np.ndarray) -> float:  # stops the solver before it crawls into a singularity
    size = np.max(np.abs(y))
    return _BLOW_UP - size if np.isfinite(size) else -1.0  # NaN would break scipy's root search for the event


_blow_up.terminal = True  # type: ignore[attr-defined]  # scipy's solve_ivp reads an event's attributes


def _with_inputs(rhs, t: np.ndarray, u: np.ndarray):
    def f(time: float, y: np.ndarray) -> np.ndarray:
        return rhs(y, np.array([np.interp(time, t, u[:, j]) for j in range(u.shape[1])]))
    return f


def _solve(f, span, y0, rtol: float, atol: float, events, **options):
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported by the caller, not as a warning
        try:
            return solve_ivp(f, span, y0, method="LSODA", rtol=rtol, atol=atol, events=events, **options)
        except ValueError:  # scipy's event root search fails on a step that jumped to inf/NaN: a blow-up
            return SimpleNamespace(y=np.full((y0.size, 1), np.nan), t=np.array([span[0]]), status=-1, success=False,
                                   message="the solution jumped to inf or NaN")


def _integrate_one(rhs, y0, t, u, rtol: float, atol: float, on_failure: str) -> np.ndarray:
    sol = _solve(_with_inputs(rhs, t, u), (t[0], t[-1]), y0, rtol, atol, _blow_up, t_eval=t)
    finite = np.all(np.isfinite(sol.y), axis=0)
    n_ok = sol.y.shape[1] if finite.all() else int(np.argmin(finite))
    if sol.status == 1:  # stopped by the blow-up event
        n_ok = min(n_ok, int(np.searchsorted(t, sol.t_events[0][0])))
    if sol.success and n_ok == t.size:
        return sol.y.T
    return _failed(sol.y.T[:n_ok], y0, t, sol.message, on_failure)


def _integrate_spiking(rhs, y0, t, u, rtol: float, atol: float, on_failure: str, rule, states) -> np.ndarray:
    """A hybrid model: LSODA between spikes, each threshold crossing found as an event (to the
    solver's precision), then the reset, the other states set or incremented, and the refractory
    period with the spiking state held at its reset while the others evolve."""
    i, w = states.index(rule.state), states.index(rule.watched)
    free = _with_inputs(rhs, t, u)

    def held(time: float, y: np.ndarray) -> np.ndarray:
        d = free(time, y)
        d[i] = 0.0
        return d

    def crossing(time: float, y: np.ndarray) -> float:
        return y[w] - (rule.threshold_at(y, states) if rule.moving else rule.threshold)

    crossing.terminal, crossing.direction = True, 1  # type: ignore[attr-defined]  # as _blow_up's
    out, start, y, holding = np.full((t.size, y0.size), np.nan), t[0], np.array(y0, dtype=float), False
    spikes = []
    while start < t[-1]:
        stop = min(start + rule.refractory, t[-1]) if holding else t[-1]
        sol = _solve(held if holding else free, (start, stop), y, rtol, atol,
                     [_blow_up] if holding else [_blow_up, crossing], dense_output=True)
        fired = sol.status == 1 and not holding and len(sol.t_events[1]) > 0
        if not sol.success or (sol.status == 1 and len(sol.t_events[0]) > 0) or not np.all(np.isfinite(sol.y)):
            return _failed(out[: int(np.searchsorted(t, start))], y0, t, sol.message, on_failure)
        end = sol.t[-1]
        inside = (t >= start) & ((t < end) if fired or holding else (t <= end))
        out[inside] = sol.sol(t[inside]).T
        y, start, holding = sol.y[:, -1].copy(), end, False
        if fired:
            spikes.append(end)
            y[i] = rule.reset
            for name, value in rule.also:
                y[states.index(name)] = value
            for name, amount in rule.add:
                y[states.index(name)] += amount
            holding = rule.refractory > 0
    out[t >= start] = y  # a last sample at the final spike or the end of a refractory period
    marks = np.searchsorted(t, spikes)  # the first sample at or after each spike
    marks = marks[marks < t.size]
    out[marks, w] = rule.threshold_at(out[marks], states)  # a moving threshold: its value at that sample
    return out


def _failed(good: np.ndarray, y0, t, message: str, on_failure: str) -> np.ndarray:
    n_ok = len(good)
    if on_failure == "nan":
        out = np.full((t.size, y0.size), np.nan)
        out[:n_ok] = good
        return out
    t_fail = t[min(n_ok, t.size - 1)]
    raise FitError(
        f"simulation from y0={y0.tolist()} diverged or failed near t={t_fail:g} ({message}); "
        "the model may blow up from this initial state or input (e.g. a spike with no reset)."
    )
