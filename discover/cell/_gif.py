"""GIF-type cell models discovered from current-clamp recordings by regression.

The model class of Pozzorini et al. (2015), with its terms found rather than fixed:

    C dV/dt = -gL (V - EL) + I - sum_k a_k w_k          (spike-triggered currents)
    dw_k/dt = -w_k / tau_k,  w_k += 1 at each spike
    spike when V >= VT + sum_j b_j theta_j + s * theta_V (moving threshold)
    dtheta_j/dt = -theta_j / tau_j,  theta_j += 1 at each spike
    dtheta_V/dt = (max(0, V - V_knee) - theta_V) / tau_V  (a threshold that follows depolarisation)
    after a spike V is held at the reset for the refractory period.

`fit_membrane` fits C, gL, EL and the currents by least squares of dV/dt on the samples away from
spikes; `fit_threshold` fits an escape rate lambda = exp((V - threshold(t)) / DV) per ms by Poisson
regression on the membrane's own voltage with spikes forced at the recorded times. Which time
constants (a grid of 3 ms to 1 s) and whether the threshold follows the voltage (and with which knee
and time constant) is decided by forward selection on held-out blocks
(`_regression.forward_select_ls` and `forward_select_glm`): a term must pay for itself there. The
kernels so come out as sums of few exponentials, and the voltage-dependent threshold (the iGIF of
Mensi et al. 2016) as one closed-form term when the data ask for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from .._errors import DataError
from ..equations import EquationSystem, Parameter, SpikeRule
from ._gate import GATE_GRID, Gate, forced_with_gate, unit_columns
from ._regression import (
    Selection,
    blocks,
    forward_select_glm,
    forward_select_ls,
    least_squares,
    noise_weights,
    poisson_glm,
)

KERNEL_TAUS = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
"""ms: the time constants spike-triggered currents and threshold jumps are chosen from."""
VOLTAGE_TAUS = (1.0, 3.0, 10.0, 30.0)
"""ms: the time constants with which a voltage-dependent threshold may follow V."""
VOLTAGE_KNEES = (5.0, 10.0, 15.0, 20.0, 25.0)
"""mV below the spike-initiation voltage where a voltage-dependent threshold may start to rise."""
SETTLE = 1000.0
"""ms left out at the start of each sweep (at most a tenth of it), where the spike history is unknown."""

MEDIAN = float(np.log(2.0))
"""The integrated escape rate at which the median reading fires: P(no spike) = exp(-H) = 1/2."""


@dataclass(frozen=True)
class Recorded:
    """Current-clamp sweeps as the fit reads them: voltage (mV) and current (pA) per sweep, the
    spike-onset sample indices per sweep, and the sampling interval `dt` (ms)."""

    v: tuple[np.ndarray, ...]
    i: tuple[np.ndarray, ...]
    onsets: tuple[np.ndarray, ...]
    dt: float

    def __post_init__(self) -> None:
        if not len(self.v) == len(self.i) == len(self.onsets) or not self.v:
            raise DataError(f"`v`, `i` and `onsets` must hold one entry per sweep, got {len(self.v)}, "
                            f"{len(self.i)} and {len(self.onsets)}.")
        for k, (v, i) in enumerate(zip(self.v, self.i, strict=True)):
            if v.shape != i.shape or v.ndim != 1:
                raise DataError(f"sweep {k}: voltage {v.shape} and current {i.shape} must be 1-D and equally long.")

    def settled(self, k: int) -> int:
        """First sample of sweep `k` the fit uses."""
        return int(min(SETTLE, 0.1 * self.v[k].size * self.dt) / self.dt)

    def quiet(self, k: int, before: float, after: float) -> np.ndarray:
        """Sweep `k`'s samples the membrane fits read: settled, more than `before` ms before a
        spike onset and `after` ms past it."""
        keep = _away_from_spikes(self.onsets[k], self.v[k].size, self.dt, before, after)
        keep[:self.settled(k)] = False
        return keep


@dataclass(frozen=True)
class Membrane:
    """C (pF), gL (nS), EL (mV) and spike-triggered currents (tau ms, amplitude pA: a current
    a * exp(-t / tau) after each spike, outward when positive); the variance of dV/dt and of V
    (re-simulated with spikes forced at the recorded times) explained away from spikes; an
    A-type potassium current (`_gate.Gate`) where the data chose one."""

    C: float
    gL: float
    EL: float
    currents: tuple[tuple[float, float], ...]
    explained_dvdt: float
    explained_v: float
    selection: Selection
    gate: Gate | None = None


@dataclass(frozen=True)
class Threshold:
    """Escape rate lambda = (1/ms) exp((V - threshold) / DV) with threshold = VT + jumps + s theta_V.

    `jumps`: (tau ms, amplitude mV) of spike-triggered threshold movements; `voltage`: (tau_V ms,
    knee mV, slope s) of the voltage-dependent part, or None; `gain`: held-out log-likelihood
    (nats) gained per spike over a constant-rate model."""

    VT: float
    DV: float
    jumps: tuple[tuple[float, float], ...]
    voltage: tuple[float, float, float] | None
    gain: float
    selection: Selection


@dataclass(frozen=True)
class CellFit:
    """A fitted cell: membrane, threshold, spike reset (mV) and refractory period (ms), and notes."""

    membrane: Membrane
    threshold: Threshold
    reset: float
    refractory: float
    notes: tuple[str, ...] = field(default=())


def spike_traces(onsets: np.ndarray, n: int, dt: float, taus: Sequence[float]) -> np.ndarray:
    """(n, len(taus)): sum over spikes of exp(-(t - t_spike) / tau), as dw/dt = -w/tau with
    w += 1 at each spike gives it (from 0 at the sweep's start). The jump shows from the sample
    after the onset: at the onset sample the model decides to spike from the history before it
    (a trace that jumped there would tell a spike-rate fit where the spikes are)."""
    train = np.zeros(n + 1)
    np.add.at(train, np.asarray(onsets, dtype=int) + 1, 1.0)
    train = train[:n]
    out = np.empty((n, len(taus)))
    for k, tau in enumerate(taus):
        decay = np.exp(-dt / tau)
        out[:, k] = lfilter([1.0], [1.0, -decay], train)
    return out


def held_after_spikes(onsets: np.ndarray, n: int, dt: float, refractory: float) -> np.ndarray:
    """True on the samples after each onset during which the model holds V at the reset."""
    held = np.zeros(n, dtype=bool)
    steps = int(round(refractory / dt))
    for s in np.asarray(onsets, dtype=int):
        held[s + 1:s + 1 + steps] = True
    return held


def _away_from_spikes(onsets: np.ndarray, n: int, dt: float, before: float, after: float) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    for s in np.asarray(onsets, dtype=int):
        keep[max(0, s - int(round(before / dt))):s + int(round(after / dt)) + 1] = False
    return keep


def fit_membrane(rec: Recorded, reset: float, refractory: float, *, before: float = 5.0,
                 taus: Sequence[float] = KERNEL_TAUS, gain: float = 0.002,
                 passive: tuple[float, float, float] | None = None, gates: Sequence[Gate] = GATE_GRID,
                 weighted: bool = True) -> Membrane:
    """C dV/dt = -gL (V - EL) + I - sum_k a_k w_k - I_A by least squares on the samples more than
    `before` ms before a spike onset and past its refractory period; each current's time constant,
    and at most one of the candidate A-type `gates` (outward only), joins when it cuts the held-out
    squared error of dV/dt by more than `gain` (relative). With `weighted`, each sample counts by
    1/sigma(V), the spread of the residual at its voltage (`noise_weights`): the shared cells' dV/dt
    is 2-10x noisier above -30 mV (abortive spikes, currents no term describes), and unweighted those
    samples set C, gL and EL for the whole range (5-HT cell: C 59 pF unweighted, 42 pF weighted).

    `passive` = (C, gL, EL) fixes the membrane (e.g. from the quiet stretches of a step protocol,
    whose few current levels cannot tell C from the currents: `identifiable` says when) and fits
    the currents alone, on dV/dt minus the passive membrane's."""
    rows, targets, traces, kept = [], [], [], []
    for k, (v, i, onsets) in enumerate(zip(rec.v, rec.i, rec.onsets, strict=True)):
        keep = rec.quiet(k, before, refractory)
        rows.append(np.column_stack([v, i, np.ones(v.size)])[keep])
        traces.append(spike_traces(onsets, v.size, rec.dt, taus)[keep])
        targets.append(np.gradient(v, rec.dt)[keep])
        kept.append(keep)
    base, y, W = np.concatenate(rows), np.concatenate(targets), np.concatenate(traces)
    if y.size < 1000:
        raise DataError(f"only {y.size} samples lie away from spikes; the membrane fit needs more "
                        "(a longer recording, or fewer spikes).")
    G = _gate_columns(rec, kept, gates)
    voltage = base[:, 0].copy()
    if passive is not None:
        C, gL, EL = passive
        y = y - (-gL * (base[:, 0] - EL) + base[:, 1]) / C
        base = np.ones((y.size, 1))  # what the fixed membrane leaves, offset included
    w = noise_weights(voltage, np.column_stack([base, W]), y) if weighted else np.ones(y.size)
    base, y, W = base * w[:, None], y * w, W * w[:, None]
    G *= w[:, None]

    candidates = {f"{tau:g}": W[:, j] for j, tau in enumerate(taus)}
    by_name = {g.name: g for g in gates}
    candidates.update({g.name: G[:, j] for j, g in enumerate(gates)})
    # a gate column is -I_A/g along V (C still to fit): an outward current has a positive coefficient
    chosen = forward_select_ls(base, candidates, y, gain=gain, exclusive=[list(by_name)] if gates else (),
                               sign={name: 1.0 for name in by_name})
    kernels = [name for name in chosen.kept if name not in by_name]
    columns = [list(taus).index(float(name)) for name in kernels]
    gate_names = [name for name in chosen.kept if name in by_name]
    X = np.column_stack([base, W[:, columns], *[candidates[name] for name in gate_names]])
    coef = least_squares(X, y)
    if gate_names and coef[-1] <= 0:  # terms that joined after it turned the gate inward: leave it out
        gate_names, X = [], X[:, :-1]
        coef = least_squares(X, y)
    if passive is None:
        C = 1.0 / coef[1]
        gL = -coef[0] * C
        if not (C > 0 and gL > 0):
            raise DataError(f"the membrane fit gave C = {C:.3g} pF and gL = {gL:.3g} nS; the recording's current "
                            "does not explain its voltage (check the channels and their units).")
        EL = coef[2] * C / gL
    else:  # the offset the fixed membrane left is a shift of its resting level
        EL = EL + coef[0] * C / gL
    amplitudes = coef[base.shape[1]:base.shape[1] + len(columns)]
    currents = tuple((float(taus[j]), float(-b * C)) for j, b in zip(columns, amplitudes, strict=True))
    gate = dataclasses.replace(by_name[gate_names[0]], g=float(coef[-1] * C)) if gate_names else None
    explained = 1.0 - float(np.mean(((X @ coef - y) / w) ** 2) / np.var(y / w))
    membrane = Membrane(float(C), float(gL), float(EL), currents, explained, float("nan"), chosen, gate)
    return _with_explained_v(membrane, rec, reset, refractory, before)


def _gate_columns(rec: Recorded, kept: list[np.ndarray], gates: Sequence[Gate]) -> np.ndarray:
    """(kept samples, gates): each gate's column on each sweep's kept samples, filled in place (one
    sweep at a time: a grid of gates over a long recording is hundreds of MB)."""
    out = np.empty((sum(int(k.sum()) for k in kept), len(gates)))
    start = 0
    for v, keep in zip(rec.v, kept, strict=True):
        stop = start + int(keep.sum())
        out[start:stop] = unit_columns(gates, v, rec.dt)[keep]
        start = stop
    return out


def identifiable(rec: Recorded, refractory: float, *, before: float = 5.0, spread: float = 0.25) -> tuple[bool, str]:
    """Whether the recording's current tells C, gL and EL apart by regression: the passive fit on
    each quarter of the quiet samples left out in turn gives positive values within `spread`
    (relative) of each other. A noise current does; a step protocol, whose current takes a few
    levels that the spike-triggered currents and a constant also explain, does not (B6, B8)."""
    rows, targets = [], []
    for k, (v, i) in enumerate(zip(rec.v, rec.i, strict=True)):
        keep = rec.quiet(k, before, refractory)
        rows.append(np.column_stack([v, i, np.ones(v.size)])[keep])
        targets.append(np.gradient(v, rec.dt)[keep])
    X, y = np.concatenate(rows), np.concatenate(targets)
    if y.size < 1000:
        return False, f"only {y.size} samples lie away from spikes"
    values = []
    for held in blocks(y.size, 4):
        train = np.setdiff1d(np.arange(y.size), held)
        coef = least_squares(X[train], y[train])
        values.append((1.0 / coef[1], -coef[0] / coef[1]))
    C, gL = np.array(values).T
    if np.any(C <= 0) or np.any(gL <= 0):
        return False, f"C from {C.min():.3g} to {C.max():.3g} pF and gL from {gL.min():.3g} to {gL.max():.3g} nS"
    worst = max(np.ptp(C) / np.median(C), np.ptp(gL) / np.median(gL))
    return bool(worst <= spread), f"C {C.min():.3g}-{C.max():.3g} pF, gL {gL.min():.3g}-{gL.max():.3g} nS"


def _with_explained_v(m: Membrane, rec: Recorded, reset: float, refractory: float, before: float) -> Membrane:
    errors, spread = [], []
    for k, (v, i, onsets) in enumerate(zip(rec.v, rec.i, rec.onsets, strict=True)):
        keep = rec.quiet(k, before, refractory)
        model = forced_voltage(m, v[0], i, onsets, rec.dt, reset, refractory)
        errors.append((model - v)[keep])
        spread.append(v[keep])
    explained = 1.0 - float(np.mean(np.concatenate(errors) ** 2) / np.var(np.concatenate(spread)))
    return dataclasses.replace(m, explained_v=explained)


def forced_voltage(m: Membrane, v0: float, i: np.ndarray, onsets: np.ndarray, dt: float, reset: float,
                   refractory: float) -> np.ndarray:
    """The membrane model's voltage driven by the recorded current with its spikes forced at the
    recorded onsets (V held at `reset` after each), by the forward Euler step the regression
    mirrors. Between spikes it is a linear recursion, so each stretch is one `lfilter` (unless an
    A-type gate makes it nonlinear)."""
    n = i.size
    current = i.astype(float).copy()
    if m.currents:
        taus, amplitudes = zip(*m.currents, strict=True)
        current -= spike_traces(onsets, n, dt, taus) @ np.array(amplitudes)
    held = held_after_spikes(onsets, n, dt, refractory)
    if m.gate is not None:
        return forced_with_gate(m.gate, m.C, m.gL, current + m.gL * m.EL, held, v0, reset, dt)
    return linear_forced(m.C, m.gL, m.EL, current, held, v0, reset, dt)


def linear_forced(C: float, gL: float, EL: float, current: np.ndarray, held: np.ndarray, v0: float, reset: float,
                  dt: float) -> np.ndarray:
    """C dV/dt = -gL (V - EL) + current by forward Euler from `v0`, held at `reset` where `held`:
    one `lfilter` per stretch between spikes."""
    n = current.size
    decay = 1.0 - dt * gL / C
    drive = dt / C * (gL * EL + current)
    out = np.empty(n)
    out[0] = v0
    edges = [1, *(np.flatnonzero(np.diff(held[1:].astype(int))) + 2), n]  # stretches of equal `held` from 1 on
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if held[a]:
            out[a:b] = reset
        else:  # v[k] = decay v[k-1] + drive[k-1], from the sample before the stretch
            out[a:b], _ = lfilter([1.0], [1.0, -decay], drive[a - 1:b - 1], zi=[decay * out[a - 1]])
    return out


def voltage_feature(v: np.ndarray, dt: float, tau: float, knee: float) -> np.ndarray:
    """theta_V along `v`: max(0, V - knee) low-pass filtered with time constant `tau` (ms)."""
    decay = np.exp(-dt / tau)
    return lfilter([1.0 - decay], [1.0, -decay], np.maximum(0.0, v - knee))


def fit_threshold(rec: Recorded, membrane: Membrane, reset: float, refractory: float, onset_voltage: float, *,
                  taus: Sequence[float] = KERNEL_TAUS, voltage_taus: Sequence[float] = VOLTAGE_TAUS,
                  knees: Sequence[float] = VOLTAGE_KNEES, gain: float = 0.01) -> Threshold:
    """The escape rate's parameters by Poisson regression on the membrane model's voltage with
    spikes forced at the recorded onsets (refractory samples left out); a threshold jump's time
    constant, or the voltage dependence, joins when it gains more than `gain` nats per recorded
    spike (and at least 2 nats) of held-out log-likelihood."""
    names = [f"jump {tau:g}" for tau in taus]
    pairs = [(tau, onset_voltage - below) for tau in voltage_taus for below in knees]
    voltage_names = [f"voltage {tau:g} {knee:g}" for tau, knee in pairs]
    rows, counts = [], []
    for k, (v, i, onsets) in enumerate(zip(rec.v, rec.i, rec.onsets, strict=True)):
        model = forced_voltage(membrane, v[0], i, onsets, rec.dt, reset, refractory)
        keep = ~held_after_spikes(onsets, v.size, rec.dt, refractory)
        keep[:rec.settled(k)] = False
        spikes = np.zeros(v.size)
        spikes[np.asarray(onsets, dtype=int)] = 1.0
        features = [spike_traces(onsets, v.size, rec.dt, taus)]
        features += [voltage_feature(model, rec.dt, tau, knee)[:, None] for tau, knee in pairs]
        rows.append(np.column_stack([model, np.ones(v.size), *features])[keep])
        counts.append(spikes[keep])
    X, y = np.concatenate(rows), np.concatenate(counts)
    if y.sum() < 20:
        raise DataError(f"only {int(y.sum())} spikes in the training sweeps; the threshold fit needs at least 20.")
    base, extra = X[:, :2], X[:, 2:]
    candidates = dict(zip([*names, *voltage_names], extra.T, strict=True))

    chosen = forward_select_glm(base, candidates, y, least=max(2.0, gain * y.sum()), exclusive=[voltage_names])
    columns = [candidates[name] for name in chosen.kept]
    Xc = np.column_stack([base, *columns])
    beta = poisson_glm(Xc, y)
    null = float(y.sum() * (np.log(y.mean()) - 1.0))
    return _threshold_from(beta, chosen, rec.dt, (chosen.scores[-1] - null) / y.sum())


def _threshold_from(beta: np.ndarray, chosen: Selection, dt: float, gain: float) -> Threshold:
    """log(rate per sample) = beta . (V, 1, terms...)  ->  DV, VT (rate 1/ms) and each term in mV."""
    DV = 1.0 / beta[0]
    VT = (np.log(dt) - beta[1]) * DV
    jumps, voltage = [], None
    for name, b in zip(chosen.kept, beta[2:], strict=True):
        kind, *numbers = name.split()
        if kind == "jump":
            jumps.append((float(numbers[0]), float(-b * DV)))
        else:
            voltage = (float(numbers[0]), float(numbers[1]), float(-b * DV))
    return Threshold(float(VT), float(DV), tuple(jumps), voltage, float(gain), chosen)


def _gate_parameters(gate: Gate) -> list[Parameter]:
    return [Parameter("g_A", gate.g, "nS", "A-type potassium conductance"),
            Parameter("E_K", gate.E_K, "mV", "potassium reversal potential (fixed)"),
            Parameter("V_act", gate.V_act, "mV", "A-type half-activation voltage"),
            Parameter("k_act", gate.k_act, "mV", "A-type activation slope (fixed)"),
            Parameter("V_inact", gate.V_inact, "mV", "A-type half-inactivation voltage"),
            Parameter("k_inact", gate.k_inact, "mV", "A-type inactivation slope (fixed)"),
            Parameter("tau_A", gate.tau, "ms", "A-type inactivation time constant")]


def _tag(tau: float) -> str:
    """A name-safe time constant: 3 -> '3', 0.5 -> '0p5'."""
    return f"{tau:g}".replace(".", "p")


def gif_system(fit: CellFit, *, offset: float = 0.0, median: bool = False, name: str = "gif") -> EquationSystem:
    """The fitted model as an `EquationSystem` (times in ms, V in mV, I in pA): spike-triggered
    currents and threshold jumps as states that decay and jump by 1 at each spike, the
    voltage-dependent threshold as a state following max(0, V - knee), and a deterministic spike
    rule at V >= VT + offset + its movements (the escape rate's DV is noise the export leaves out:
    `offset` places the deterministic threshold, see `calibrate_offset`). With `median` the rule
    is the escape noise's median instead: a state H integrates the escape rate
    rate_0*exp((V - theta)/DV) since the last spike, and the model spikes where H reaches ln 2."""
    m, th = fit.membrane, fit.threshold
    params = [Parameter("C", m.C, "pF", "membrane capacitance"), Parameter("gL", m.gL, "nS", "leak conductance"),
              Parameter("EL", m.EL, "mV", "leak reversal potential")]
    currents = "".join(f" - a_{_tag(tau)}*w_{_tag(tau)}" for tau, _ in m.currents)
    if m.gate is not None:
        currents += " - g_A*h_A*(V - E_K)/(1 + exp(-(V - V_act)/k_act))"
    equations = [f"dV/dt = (-gL*(V - EL) + I{currents})/C"]
    units, add, moving = {"V": "mV", "I": "pA"}, [], []
    if m.gate is not None:
        params += _gate_parameters(m.gate)
        equations.append("dh_A/dt = (1/(1 + exp((V - V_inact)/k_inact)) - h_A)/tau_A")
        units["h_A"] = "1"
    for tau, amplitude in m.currents:
        t = _tag(tau)
        equations.append(f"dw_{t}/dt = -w_{t}/tau_w_{t}")
        params += [Parameter(f"a_{t}", amplitude, "pA", f"spike-triggered current decaying with {tau:g} ms"),
                   Parameter(f"tau_w_{t}", tau, "ms", "its time constant")]
        units[f"w_{t}"] = "1"
        add.append((f"w_{t}", 1.0))
    for tau, amplitude in th.jumps:
        t = _tag(tau)
        equations.append(f"dtheta_{t}/dt = -theta_{t}/tau_theta_{t}")
        params.append(Parameter(f"tau_theta_{t}", tau, "ms", "threshold jump time constant"))
        units[f"theta_{t}"] = "1"
        add.append((f"theta_{t}", 1.0))
        moving.append((f"theta_{t}", amplitude))
    if th.voltage is not None:
        tau, knee, slope = th.voltage
        equations.append("dtheta_V/dt = ((V - V_knee + abs(V - V_knee))/2 - theta_V)/tau_V")
        params += [Parameter("V_knee", knee, "mV", "voltage above which the threshold follows V"),
                   Parameter("tau_V", tau, "ms", "time constant with which the threshold follows V")]
        units["theta_V"] = "mV"
        moving.append(("theta_V", slope))
    rule = SpikeRule("V", th.VT + offset, fit.reset, fit.refractory, add=tuple(add), moving=tuple(moving))
    if median:
        rule = _median_rule(rule, th, equations, params, units)
    system = EquationSystem.from_text(equations, inputs=["I"], parameters=params, units=units, time_unit="ms",
                                      name=name)
    gate = m.gate
    note = (f"GIF-type model fitted by regression: membrane C={m.C:.4g} pF, gL={m.gL:.4g} nS, EL={m.EL:.4g} mV, "
            f"{len(m.currents)} spike-triggered current(s), "
            + (f"an A-type K current (g_A={gate.g:.3g} nS, V_act={gate.V_act:g} mV, V_inact={gate.V_inact:g} mV, "
               f"tau_A={gate.tau:g} ms), " if gate is not None else "")
            + f"escape threshold VT={th.VT:.4g} mV (DV={th.DV:.3g} mV) with {len(th.jumps)} jump(s)"
            + (", following V above a knee" if th.voltage else "")
            + f"; deterministic threshold offset {offset:.3g} mV")
    return dataclasses.replace(system, spike=rule, provenance=(*system.provenance, *fit.notes, note))


def _median_rule(rule: SpikeRule, th: Threshold, equations: list[str], params: list[Parameter],
                 units: dict[str, str]) -> SpikeRule:
    """`rule` read at the escape noise's median: the state H (appended to `equations`) integrates
    the escape rate since the last spike, with the threshold's movements inside the exponent."""
    amplitudes = {name: f"b_{name.split('_', 1)[1]}" for name, _ in rule.moving}
    theta = "VT" + "".join(f" + {amplitudes[name]}*{name}" for name, _ in rule.moving)
    equations.append(f"dH/dt = rate_0*exp((V - ({theta}))/DV)")
    params += [Parameter("VT", th.VT, "mV", "escape threshold: the rate is rate_0 there"),
               Parameter("DV", th.DV, "mV", "escape rate's voltage scale"),
               Parameter("rate_0", 1.0, "1/ms", "escape rate at the threshold")]
    params += [Parameter(amplitudes[name], c, "1" if name == "theta_V" else "mV",
                         "threshold slope above the knee" if name == "theta_V" else "threshold jump")
               for name, c in rule.moving]
    units["H"] = "1"
    return SpikeRule("V", MEDIAN, rule.reset, rule.refractory, also=(("H", 0.0),), add=rule.add, watch="H")
