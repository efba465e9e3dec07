"""A config's `[gate]`: a gate's kinetics learned from the voltage alone, distilled and validated.

`discover run` takes this path instead of `discover()` when the config has a `[gate]` section: the
gate is hidden, `GateKinetics` learns x_inf(V) and tau(V), `distill_gate` writes them in closed
form, and both the networks and the closed form re-simulate the held-out sweeps from rest.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ConfigError, check_keys, did_you_mean
from ._progress import Progress, as_progress
from .data import Trajectories, integrate
from .distill import GateDistillation, distill_gate
from .equations import EquationSystem
from .ude import GateKinetics, resting_hidden
from .validate import spike_thresholds, trajectory_metrics

if TYPE_CHECKING:
    from ._config import RunConfig

# set by the config's other keys (`name`, `voltage`) or by the run itself, not by estimator keywords
_NOT_KEYWORDS = ("self", "system", "gate", "voltage", "estimator")


def gate_keywords() -> dict[str, inspect.Parameter]:
    """The `[gate]` keys besides `name` and `voltage`: `GateKinetics`' keyword arguments, then
    `distill_gate`'s (read off the signatures, so the config cannot drift from them)."""
    return {p.name: p for function in (GateKinetics.__init__, distill_gate)
            for p in inspect.signature(function).parameters.values() if p.name not in _NOT_KEYWORDS}


def check_gate(gate: Mapping[str, Any], system: EquationSystem) -> dict[str, Any]:
    """`[gate]` checked against the model: a gate and a voltage that are its states, known keys."""
    gate = dict(gate)
    check_keys("[gate]", gate, ("name", "voltage", *gate_keywords()))
    name, voltage = gate.get("name"), gate.get("voltage", "V")
    if not isinstance(name, str):
        raise ConfigError(f"[gate] name = {name!r}: give the state whose kinetics are learned, e.g. name = \"w\".")
    for key, value in (("name", name), ("voltage", voltage)):
        if value not in system.states:
            raise ConfigError(f"[gate] {key} = {value!r} is not a state of the model {list(system.states)}."
                              + did_you_mean(str(value), system.states))
    if name == voltage:
        raise ConfigError(f"[gate] name and voltage are both {name!r}: the gate is the state whose kinetics are "
                          "learned, the voltage the recorded one it depends on.")
    return gate


@dataclass(frozen=True)
class GateRun:
    """What a `[gate]` run found: the fitted `estimator` (`GateKinetics`), the `distilled` closed
    forms (`GateDistillation`), the data, each model's re-simulation of the held-out sweeps
    (`predictions`: "networks", "discovered"; recorded states only), their `metrics` (as
    `trajectory_metrics`) and the `seconds` of each stage."""

    estimator: GateKinetics
    distilled: GateDistillation
    train: Trajectories
    heldout: Trajectories
    predictions: Mapping[str, np.ndarray]
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]]
    seconds: Mapping[str, float]


def run_gate(config: RunConfig, *, progress: bool | Progress = True,
             say: Callable[..., None] = lambda *a: None) -> GateRun:
    """Learn, distil and validate the `[gate]` of `config` (see the module's docstring)."""
    assert config.gate is not None
    system, train, heldout = config.prepare()
    gate = dict(config.gate)
    name, voltage = gate.pop("name"), gate.pop("voltage", "V")
    forms = {k: gate.pop(k) for k in list(gate) if k in inspect.signature(distill_gate).parameters}
    say(f"Model: {system.name}, gate {name!r} learned from {list(train.states)} and {list(train.inputs)}.")
    say(f"Data: {train.n_trajectories} training and {heldout.n_trajectories} held-out sweeps, "
        f"{train.t.size} samples each (dt = {train.dt:g} {system.time_unit}).")
    report, seconds = as_progress(progress), {}
    began = time.perf_counter()
    with report.stage(f"learning the kinetics of {name} (x_inf and tau as networks of {voltage})"):
        estimator = GateKinetics(system, name, voltage, **gate).fit(train)
    seconds["training"], began = time.perf_counter() - began, time.perf_counter()
    with report.stage(f"writing {name}'s kinetics in closed form (every form refitted on the data)"):
        distilled = distill_gate(estimator, **forms)
    seconds["distillation"], began = time.perf_counter() - began, time.perf_counter()
    with report.stage("validating: re-simulating the held-out sweeps from rest"):
        predictions = {"networks": estimator.simulate(heldout), "discovered": resimulate_from_rest(
            distilled.system, heldout)}
        recorded = [system.state_index(s) for s in heldout.states]
        predictions = {k: v[..., recorded] for k, v in predictions.items()}
        thresholds = spike_thresholds(system, heldout)
        metrics = {k: trajectory_metrics(p, heldout, time_unit=system.time_unit, spike_threshold=thresholds)
                   for k, p in predictions.items()}
    seconds["validation"] = time.perf_counter() - began
    return GateRun(estimator, distilled, train, heldout, predictions, metrics, seconds)


def resimulate_from_rest(system: EquationSystem, data: Trajectories) -> np.ndarray:
    """`system` integrated on `data`'s inputs from each sweep's first recorded sample, the states the
    data do not record at rest there (`resting_hidden`): `(n_sweeps, T, n_states)`, NaN after a blow-up."""
    hidden = tuple(s for s in system.states if s not in data.states)
    y0 = np.zeros((data.n_trajectories, len(system.states)))
    for i, s in enumerate(data.states):
        y0[:, system.state_index(s)] = data.y[:, 0, i]
    if hidden:
        y0[:, [system.state_index(s) for s in hidden]] = resting_hidden(system, data, hidden)
    return integrate(system, y0, data.t, data.u, rtol=1e-7, atol=1e-9, on_failure="nan")


def gate_summary(run: GateRun) -> str:
    """What a `[gate]` run prints: the chosen form with its numbers, every form tried, the held-out table."""
    from .report import metrics_table

    chosen, d = run.distilled.chosen, run.distilled
    numbers = ", ".join(f"{k} {v:.4g}" + (f" ± {chosen.errors[k]:.2g}" if np.isfinite(chosen.errors[k]) else " (held)")
                        for k, v in chosen.values.items())
    lines = [f"Gate {d.gate}: {chosen.label}", f"  {numbers}", "", "Every form refitted on the data (size: loss):"]
    lines += [f"  {f.label} ({f.size}): {f.loss:.4g}" + ("  <- chosen" if f is chosen else "") for f in d.forms]
    lines += ["", "Model with the closed form:", *("  " + line for line in str(d.system).splitlines()), ""]
    lines += ["Re-simulation of held-out sweeps, from rest:",
              *("  " + line for line in metrics_table(run.metrics).splitlines())]
    lines += ["", "Wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items())]
    return "\n".join(lines)
