"""A current-clamp cell's model discovered by regression and checked on held-out sweeps.

The workflow an electrophysiologist who fits GIF models expects (Pozzorini et al. 2015): the
electrode compensated where a subthreshold noise recording allows it (Badel et al. 2008); spikes
found by their onset slope; reset and refractory period read off the average spike; the membrane
and its spike-triggered currents by linear regression; an escape-rate threshold by Poisson
regression; every time constant, and whether the threshold follows the voltage, chosen on
held-out blocks (`_gif`). Then the held-out sweeps are predicted from their current alone.

Two readings of one model are scored: the stochastic one (escape noise, many runs: Md*, the
measure GIF papers report) and the deterministic one the exports carry (spikes at the threshold,
placed so that it fires as often as the cell on the training sweeps). The known part, for
comparison, is the passive membrane with a fixed threshold at the cell's spike-onset voltage.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from .._discovery import Discovery
from .._progress import Progress, as_progress
from ..data import Trajectories
from ..equations import EquationSystem, SpikeRule, compile_numpy
from ._electrode import ElectrodeFit
from ._gate import ACTIVATION_HALF, GATE_GRID, INACTIVATION_HALF, INACTIVATION_TAUS, Gate
from ._gif import (
    MEDIAN,
    CellFit,
    Membrane,
    Recorded,
    Threshold,
    fit_membrane,
    fit_threshold,
    forced_voltage,
    gif_system,
    identifiable,
    spike_traces,
    voltage_feature,
)
from ._membrane import estimate_passive
from ._reading import choose_reading
from ._refine import refine_membrane
from ._scores import cell_metrics
from ._simulate import simulate_gif, simulate_rows
from ._spikes import SpikeAnalysis, analyse_spikes, detect_spikes


@dataclass(frozen=True)
class CellSettings:
    """How a cell is fitted and scored: `slope` (mV/ms) of spike onset, None to choose it from the
    data; `runs` of the stochastic model per held-out sweep; `seed`; the coincidence half-windows
    `window` (Gamma) and `md_window` (Md*), ms."""

    slope: float | None = None
    runs: int = 100
    seed: int = 0
    window: float = 4.0
    md_window: float = 8.0


@dataclass(frozen=True, eq=False)
class CellDiscovery:
    """What `discover_cell` found: the fit, the known and discovered systems, the spikes, the
    compensated data (states V and the traces the model's hidden states follow along the recorded
    spikes), held-out predictions (deterministic traces per model, stochastic spike trains) and
    metrics (model -> measures), wall times and notes."""

    fit: CellFit
    known: EquationSystem
    discovered: EquationSystem
    spikes: SpikeAnalysis
    electrode: ElectrodeFit | None
    train: Trajectories
    heldout: Trajectories
    predictions: dict[str, np.ndarray]
    trains: dict[str, list[list[np.ndarray]]]
    metrics: dict[str, dict]
    seconds: dict[str, float]
    notes: tuple[str, ...]

    def as_discovery(self) -> Discovery:
        """This cell as the `Discovery` every results folder, report and export reads: the voltage
        only (the model's other states are spike-history traces), no network, no residual
        distillation; the fit (terms kept, why, the spike analysis, the electrode) under `routes`."""
        fit, rule = self.fit, self.discovered.spike
        assert rule is not None  # gif_system always has one
        record = {
            "chosen": "regression",
            "why": "GIF-type model discovered by regression (membrane by least squares on dV/dt, threshold by "
                   "Poisson regression), every time constant and the threshold's voltage dependence chosen on "
                   "held-out blocks",
            "routes": {"regression": {"terms": {"V": str(self.discovered.rhs[0])},
                                      "threshold": rule.threshold_text()}},
            "cell": {"membrane": _membrane_record(fit.membrane), "threshold": _threshold_record(fit.threshold),
                     "spikes": self.spikes.as_dict(),
                     "electrode": self.electrode.as_dict() if self.electrode is not None else None},
        }
        return Discovery(self.known, self.discovered, None, {}, _voltage(self.train), _voltage(self.heldout),
                         self.predictions, self.metrics, self.seconds, notes=self.notes, routes=record)


def _voltage(d: Trajectories) -> Trajectories:
    return Trajectories(d.t, d.y[..., :1], d.u, d.states[:1], d.inputs)


def _membrane_record(m: Membrane) -> dict:
    return {"C_pF": m.C, "gL_nS": m.gL, "EL_mV": m.EL, "currents_tau_ms_amplitude_pA": [list(c) for c in m.currents],
            "explained_dvdt": m.explained_dvdt, "explained_v_forced": m.explained_v, "kept": list(m.selection.kept),
            "why_stopped": m.selection.why,
            "a_type_gate": None if m.gate is None else {
                "g_nS": m.gate.g, "V_act_mV": m.gate.V_act, "k_act_mV": m.gate.k_act, "V_inact_mV": m.gate.V_inact,
                "k_inact_mV": m.gate.k_inact, "tau_ms": m.gate.tau, "E_K_mV": m.gate.E_K}}


def _threshold_record(th: Threshold) -> dict:
    return {"VT_mV": th.VT, "DV_mV": th.DV, "jumps_tau_ms_amplitude_mV": [list(j) for j in th.jumps],
            "voltage_tau_ms_knee_mV_slope": list(th.voltage) if th.voltage else None,
            "gain_nats_per_spike": th.gain, "kept": list(th.selection.kept), "why_stopped": th.selection.why}


def discover_cell(train: Trajectories, heldout: Trajectories, *, electrode: ElectrodeFit | None = None,
                  settings: CellSettings = CellSettings(), progress: bool | Progress = True) -> CellDiscovery:
    """Fit a GIF-type model to the training sweeps of a current-clamp recording (states ("V",),
    inputs ("I",), mV, pA, ms) and predict the held-out sweeps from their current."""
    progress, seconds, began = as_progress(progress), {}, time.perf_counter()
    train, heldout = (_compensated(d, electrode) for d in (train, heldout))
    with progress.stage("spikes: onsets, shape, reset and refractory period"):
        spikes = analyse_spikes(train.y[..., 0], train.dt, settings.slope)
    rec = Recorded(tuple(train.y[..., 0]), tuple(train.u[..., 0]), spikes.onsets, train.dt)
    with progress.stage("membrane and spike-triggered currents (terms chosen by least squares on held-out blocks, "
                        "numbers refitted on V)"):
        fixed, how = _passive(rec, train, spikes)
        # a gate's current is a function of V's history, as the leak's is: with C, gL and EL fixed from
        # elsewhere it would fit their error, so it is a candidate only where the regression fits them
        membrane = _membrane(rec, spikes.reset, spikes.refractory, passive=fixed,
                             gates=GATE_GRID if fixed is None else ())
        # the known part: the passive membrane alone, as fitted or as the quiet stretches gave it
        passive = _membrane(rec, spikes.reset, spikes.refractory, taus=(), gates=()) if fixed is None else \
            Membrane(fixed[0], fixed[1], fixed[2], (), float("nan"), float("nan"), membrane.selection)
    with progress.stage("escape-rate threshold (Poisson regression, terms chosen on held-out blocks)"):
        threshold = fit_threshold(rec, membrane, spikes.reset, spikes.refractory, spikes.threshold)
    fit = CellFit(membrane, threshold, spikes.reset, spikes.refractory, spikes.warnings)
    with progress.stage("the deterministic threshold's offset (as many training spikes as the cell)"):
        offset = calibrate_offset(fit, rec)
    if membrane.gate is not None:
        with progress.stage("does the A-type current earn its place? (the threshold refitted without it)"):
            fit, offset, gate_note = _judge_gate(fit, offset, rec, spikes.threshold)
        membrane, threshold = fit.membrane, fit.threshold
    else:
        gate_note = "no A-type current: " + ("no candidate cut the held-out error of dV/dt enough" if fixed is None
                                              else "the membrane was fixed from the quiet stretches")
    with progress.stage("the deterministic reading: threshold crossing or escape noise median (training Gamma)"):
        median, reading_note = choose_reading(fit, rec, offset)
    known_fit = CellFit(passive, Threshold(spikes.threshold, threshold.DV, (), None, 0.0, passive.selection),
                        spikes.reset, spikes.refractory)
    discovered = gif_system(fit, offset=0.0 if median else offset, median=median)
    known = known_system(discovered, passive, spikes)
    seconds["fit"] = time.perf_counter() - began
    began = time.perf_counter()
    with progress.stage("predicting the held-out sweeps"):
        held = detect_spikes(heldout.y[..., 0], heldout.dt, spikes.slope)
        chosen, other = _both_readings(fit, heldout, offset, median)
        # the reading not chosen, for comparison (as the pipeline shows a route not chosen)
        deterministic = {"known only": _deterministic(known_fit, heldout, 0.0), "discovered": chosen,
                         OTHER_READING[median]: other}
        trains = {"discovered (stochastic)": _stochastic(fit, heldout, settings)}
        forced = {name: np.stack([forced_voltage(m, y[0, 0], u[:, 0], o, heldout.dt, spikes.reset, spikes.refractory)
                                  for y, u, o in zip(heldout.y, heldout.u, held, strict=True)])
                  for name, m in (("known only", passive), ("discovered", membrane))}
        metrics = cell_metrics(heldout, held, deterministic, trains, spikes, settings, forced)
    predictions = {name: trace for name, (trace, _) in deterministic.items()}
    seconds["validation"] = time.perf_counter() - began
    with_traces = (_with_traces(train, spikes.onsets, discovered), _with_traces(heldout, held, discovered))
    notes = (*spikes.warnings, *(electrode.warnings if electrode is not None else ()), how,
             f"membrane terms: {membrane.selection.why}", gate_note, f"threshold terms: {threshold.selection.why}",
             reading_note)
    return CellDiscovery(fit, known, discovered, spikes, electrode, *with_traces, predictions, trains, metrics,
                         seconds, notes)


OTHER_READING = {False: "discovered, escape noise median (not chosen)",
                 True: "discovered, threshold crossing (not chosen)"}
"""The held-out prediction of the deterministic reading not chosen (`choose_reading`), by which one was."""

GATE_MARGIN = 0.01
"""nats per spike of held-out spike-time likelihood an A-type current must add (what a threshold
term must gain to join, `fit_threshold`'s `gain`)."""


def _judge_gate(fit: CellFit, offset: float, rec: Recorded, onset_voltage: float) -> tuple[CellFit, float, str]:
    """The gated fit, or the model refitted without its gate when the gate does not lift the
    escape model's held-out log-likelihood of the training spikes by GATE_MARGIN per spike: a
    gate that only fits dV/dt better (a look-alike of other voltage dependence) must also tell
    when the cell fires. (The deterministic model's Γ on the training sweeps cannot judge this: on
    a synthetic cell with escape noise it was lower with the true gate than without it.)"""
    plain_m = _membrane(rec, fit.reset, fit.refractory, passive=None, gates=())
    plain_th = fit_threshold(rec, plain_m, fit.reset, fit.refractory, onset_voltage)
    gate, gain = fit.membrane.gate, fit.threshold.gain
    assert gate is not None
    what = (f"A-type K current g_A={gate.g:.3g} nS, V_act={gate.V_act:g} mV, V_inact={gate.V_inact:g} mV, "
            f"tau_A={gate.tau:g} ms{_at_edge(gate)}: spike-time likelihood {gain:.3f} nats per spike over a constant "
            f"rate with it, {plain_th.gain:.3f} without")
    if gain >= plain_th.gain + GATE_MARGIN:
        return fit, offset, f"{what}: kept"
    plain = CellFit(plain_m, plain_th, fit.reset, fit.refractory, fit.notes)
    return plain, calibrate_offset(plain, rec), (f"{what}: left out (it must add {GATE_MARGIN} nats per spike, "
                                                 "not only fit dV/dt better)")


def _membrane(rec: Recorded, reset: float, refractory: float, **options) -> Membrane:
    """`fit_membrane`'s terms; where regression set C, gL and EL, their numbers refitted on the
    voltage (`refine_membrane`). Where `options` fix the passive membrane from the quiet stretches,
    those are an output-error fit already (`refine_passive`) and the currents stay as regressed: on
    the step cells of benchmarks/RESULTS_cells.md refitting their amplitudes too lowered held-out
    Gamma on FSI and B8 and raised it on B6."""
    chosen = fit_membrane(rec, reset, refractory, **options)
    return chosen if options.get("passive") is not None else refine_membrane(chosen, rec, reset, refractory)


def _at_edge(gate: Gate) -> str:
    """Which of the gate's grid-chosen values sit at an end of the range searched (the best value
    may lie beyond it), as a note to append."""
    edges = [f"{name} at the end of {values[0]:g}..{values[-1]:g} searched" for name, value, values in (
        ("V_act", gate.V_act, ACTIVATION_HALF), ("V_inact", gate.V_inact, INACTIVATION_HALF),
        ("tau_A", gate.tau, INACTIVATION_TAUS)) if value in (values[0], values[-1])]
    return f" ({'; '.join(edges)})" if edges else ""


def _passive(rec: Recorded, train: Trajectories, spikes: SpikeAnalysis):
    """(C, gL, EL) fixed from the quiet stretches when the current cannot tell them apart by
    regression (a step protocol), else None (fitted with the currents); and a note saying which."""
    ok, spread = identifiable(rec, spikes.refractory)
    if ok:
        return None, f"membrane by regression on dV/dt: the current tells C, gL and EL apart ({spread} across quarters)"
    rule = SpikeRule("V", spikes.threshold, spikes.reset, spikes.refractory)
    p = estimate_passive(train, rule)
    return (p["C"], p["gL"], p["EL"]), (
        f"membrane from the quiet subthreshold stretches, re-simulated (regression on dV/dt could not tell C, gL "
        f"and EL apart: {spread} across quarters of the samples): C={p['C']:.4g} pF, gL={p['gL']:.4g} nS, "
        f"EL={p['EL']:.4g} mV; the spike-triggered currents fitted on what it leaves")


def _compensated(data: Trajectories, electrode: ElectrodeFit | None) -> Trajectories:
    if electrode is None:
        return data
    v = np.stack([electrode.compensate(v, i, data.dt) for v, i in zip(data.y[..., 0], data.u[..., 0], strict=True)])
    return Trajectories(data.t, v[..., None], data.u, data.states, data.inputs)


def known_system(discovered: EquationSystem, passive, spikes: SpikeAnalysis) -> EquationSystem:
    """The passive membrane with a fixed threshold at the cell's spike-onset voltage, on the
    discovered system's states (its traces then evolve without acting): the model before
    discovery, predicted and exported beside the discovered one."""
    assert discovered.spike is not None  # gif_system always has one
    values = {"C": passive.C, "gL": passive.gL, "EL": passive.EL}
    values.update({p.name: 0.0 for p in discovered.parameters if p.name.startswith("a_") or p.name == "g_A"})
    rule = SpikeRule("V", spikes.threshold, spikes.reset, spikes.refractory, add=discovered.spike.add)
    system = dataclasses.replace(discovered.with_parameters(values), spike=rule, name="known")
    return system.with_note(f"known part: passive membrane C={passive.C:.4g} pF, gL={passive.gL:.4g} nS, "
                            f"EL={passive.EL:.4g} mV, spikes at the median onset voltage {spikes.threshold:.4g} mV")


SHIFTS = np.arange(-12.0, 4.01, 0.25)  # mV: the thresholds shifts `calibrate_offset` tries


def calibrate_offset(fit: CellFit, rec: Recorded, shifts: np.ndarray = SHIFTS) -> float:
    """The shift of the deterministic threshold (mV) whose spike count on the training sweeps is
    closest to the cell's (the smallest such shift on a tie): the escape model spikes below its
    threshold, where the rate is 1/ms, so the deterministic reading of it needs its own level."""
    target = sum(len(o) for o in rec.onsets)
    counts = np.zeros(shifts.size)
    for v, i in zip(rec.v, rec.i, strict=True):  # every shift a row: a gated model steps them together
        trains, _ = simulate_rows(fit, i[None], rec.dt, np.full(shifts.size, v[0]), shifts,
                                  which=np.zeros(shifts.size, dtype=int))
        counts += [len(t) for t in trains]
    return float(shifts[int(np.argmin(np.abs(counts - target)))])


def _deterministic(fit: CellFit, data: Trajectories, offset: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Voltage traces `(sweeps, samples, 1)` and spike times of the deterministic model on every
    held-out sweep, from its first voltage."""
    trains, traces = simulate_rows(fit, data.u[..., 0], data.dt, data.y[:, 0, 0], np.full(data.n_trajectories, offset),
                                   keep=True)
    assert traces is not None
    return traces[..., None], trains


def _both_readings(fit: CellFit, data: Trajectories, offset: float, median: bool):
    """`_deterministic` of the chosen reading (`median` or the crossing at `offset`), then of the
    other: every sweep twice, as rows of one pass."""
    n = data.n_trajectories
    trains, traces = simulate_rows(fit, data.u[..., 0], data.dt, np.tile(data.y[:, 0, 0], 2),
                                   np.repeat([0.0 if median else offset, offset if median else 0.0], n),
                                   which=np.tile(np.arange(n), 2), keep=True, median=np.repeat([median, not median], n))
    assert traces is not None
    return (traces[:n, :, None], trains[:n]), (traces[n:, :, None], trains[n:])


def _stochastic(fit: CellFit, data: Trajectories, settings: CellSettings) -> list[list[np.ndarray]]:
    """`settings.runs` escape-noise runs per held-out sweep (spike times, ms)."""
    if fit.membrane.gate is not None:  # every run of every sweep a row, stepped together
        sweeps, runs = data.n_trajectories, settings.runs
        trains, _ = simulate_rows(fit, data.u[..., 0], data.dt, np.repeat(data.y[:, 0, 0], runs),
                                  np.zeros(sweeps * runs), which=np.repeat(np.arange(sweeps), runs), stochastic=True,
                                  seed=settings.seed)
        return [trains[k * runs:(k + 1) * runs] for k in range(sweeps)]
    return [simulate_gif(fit, u[:, 0], data.dt, v0=y[0, 0], stochastic=True, runs=settings.runs,
                         seed=settings.seed + k)[0] for k, (y, u) in enumerate(zip(data.y, data.u, strict=True))]


def _hazard_along(y: np.ndarray, system: EquationSystem, onsets, dt: float) -> np.ndarray:
    """The median reading's H along recorded sweeps `y` `(sweeps, samples, states before H)`: the
    escape rate (the system's own dH/dt) integrated by the trapezoid rule, ln 2 at each recorded
    spike (as a simulated trace holds the threshold there) and restarting from 0 after it."""
    f = compile_numpy(dataclasses.replace(system, spike=None))
    out = np.zeros(y.shape[:2])
    for k, (rows, marks) in enumerate(zip(y, onsets, strict=True)):
        full = np.concatenate([rows, np.zeros((rows.shape[0], 1))], axis=1)
        rate = f(full, np.zeros((rows.shape[0], len(system.inputs))))[:, -1]
        area = np.concatenate([[0.0], np.cumsum(0.5 * dt * (rate[:-1] + rate[1:]))])
        starts = np.concatenate([[0], np.asarray(marks, dtype=int)])
        since = area - area[starts[np.searchsorted(starts, np.arange(rows.shape[0]), side="right") - 1]]
        since[np.asarray(marks, dtype=int)] = MEDIAN
        out[k] = since
    return out


def _with_traces(data: Trajectories, onsets, system: EquationSystem) -> Trajectories:
    """`data` with the hidden states' trajectories implied by the recorded spikes and voltage."""
    columns = [data.y[..., 0]]
    params = system.parameter_values
    for state in system.states[1:]:
        if state == "h_A":
            gate = Gate(params["g_A"], params["V_act"], params["V_inact"], params["tau_A"], params["k_act"],
                        params["k_inact"], params["E_K"])
            columns.append(np.stack([gate.h_along(v, data.dt) for v in data.y[..., 0]]))
        elif state == "H":  # the rate integrated since each recorded spike: above ln 2 where the model fires early
            columns.append(_hazard_along(np.stack(columns, axis=-1), system, onsets, data.dt))
        elif state == "theta_V":
            columns.append(np.stack([voltage_feature(v, data.dt, params["tau_V"], params["V_knee"])
                                     for v in data.y[..., 0]]))
        else:
            tau = params[("tau_w_" if state.startswith("w_") else "tau_theta_") + state.split("_", 1)[1]]
            columns.append(np.stack([spike_traces(o, data.t.size, data.dt, [tau])[:, 0] for o in onsets]))
    return Trajectories(data.t, np.stack(columns, axis=-1), data.u, system.states, data.inputs)
