"""The first stage of `discover()`: check the data against the system, hold out what validates and
what chooses, and settle what the run does (`Plan`) and on which data (`RunData`), before any training.

Two of the three kinds of run are settled here: a spiking model (one with a spike rule) takes the UDE
route, with a shorter training window, on the stretches between its spikes (`_spiking`); states the
data do not record (`_check_hidden`) take the UDE route too, whose estimates of them every later stage
then sees (`with_hidden_estimates`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._errors import ConfigError, DataError
from .cell import spike_free_chunks
from .data import Trajectories
from .distill import DistillOptions
from .equations import EquationSystem, SpikeRule
from .ude import UDE, hidden_states


@dataclass(frozen=True)
class Plan:
    """What a run does, settled from its arguments before any training."""

    system: EquationSystem
    options: DistillOptions
    training: Mapping[str, Any]  # `UDE` keywords, a spiking model's shorter default window filled in
    route: str  # "ude", "direct" or "auto" (both routes, then the better)
    hidden: tuple[str, ...]  # the states the data do not record (none, usually)
    window: int  # the UDE's training window (samples), which refit, pruning and rounding use too
    substeps: int

    @property
    def spiking(self) -> bool:
        return self.system.spike is not None


@dataclass(frozen=True)
class RunData:
    """The data every stage works on (`with_hidden_estimates` replaces it once the UDE has estimated
    the hidden states)."""

    full_train: Trajectories  # the training trajectories (a spiking model's whole sweeps)
    train: Trajectories  # what is trained and distilled on: the same, or a spiking model's spike-free pieces
    fit: Trajectories  # `train` less the part held out to choose on
    chosen_on: Trajectories | None  # that part: candidates and routes are chosen on it (None: on `fit`)
    selection: Mapping[str, Any]  # how it was held out, for the results (`Discovery.selection`)
    heldout: Trajectories  # as recorded: validation completes any hidden states itself
    held_note: str  # how `heldout` was taken from the training data when not given; "" when given


def prepare(train: Trajectories, system: EquationSystem, heldout: Trajectories | None, training: Mapping[str, Any],
            options: DistillOptions) -> tuple[Plan, RunData]:
    """Check the data (units, the same recorded states in both, what hidden states allow), hold out
    the validation data and the part candidates are chosen on; the run's `Plan` and its data."""
    train, heldout, held_note = hold_out(train, heldout)
    for name, data in (("train", train), ("heldout", heldout)):
        check_voltage_units(system, data, name)
    hidden = _check_hidden(system, train, heldout, options)
    route = "ude" if hidden else _route(system, options)
    training, pieces = (training, train) if system.spike is None else _spiking(system.spike, training, train)
    window = int(training.get("window", _ude_default("window")))
    substeps = int(training.get("substeps", _ude_default("substeps")))
    fit, chosen_on, selection = _selection_split(pieces, options.selection, window)
    plan = Plan(system, options, training, route, hidden, window, substeps)
    return plan, RunData(train, pieces, fit, chosen_on, selection, heldout, held_note)


def with_hidden_estimates(plan: Plan, data: RunData, ude: UDE) -> RunData:
    """`data` with the hidden states' trajectories `ude` estimated, which every stage after training sees."""
    train = ude.complete(data.train)
    # the part chosen on is cut from the completed `train`, not fitted a hidden start of its own
    chosen_on = None if data.chosen_on is None else _selection_split(train, plan.options.selection, plan.window)[1]
    return replace(data, full_train=train, train=train, fit=ude.completed_, chosen_on=chosen_on)


SPIKING_WINDOW = 8
"""Default training window (samples) for a spiking system (one with a spike rule)."""


def _spiking(rule: SpikeRule, training: Mapping[str, Any],
             train: Trajectories) -> tuple[Mapping[str, Any], Trajectories]:
    """A spiking model's training settings and training data: the default window `SPIKING_WINDOW`,
    and the stretches between spikes (a smooth ODE cannot follow a spike)."""
    if "window" not in training:
        # Near the threshold a spiking model diverges within a few samples: a 20-sample window
        # started from a noisy sample there cannot follow the upstroke's timing, and the loss is then
        # smallest for a model with the upstroke damped away (an outward current at depolarised V,
        # seen on simulated Izhikevich data and on the real FSI). 8 samples recover Izhikevich's
        # 0.04 v^2 and the EIF's exponential; 4-5 make the EIF's slope too shallow.
        training = {**training, "window": SPIKING_WINDOW}
    window = int(training.get("window", _ude_default("window")))
    return training, spike_free_chunks(train, rule, 3 * window)


HELDOUT_FRACTION = 0.25
"""Of a single training trajectory, the share held out when `discover` is given no `heldout`."""


def hold_out(train: Trajectories, heldout: Trajectories | None) -> tuple[Trajectories, Trajectories, str]:
    """(train, heldout, note): as given, or without `heldout` the last trajectory of `train` held
    out (several trajectories), or the last `HELDOUT_FRACTION` of its one trajectory (a held-out
    stretch starts where training ends, so it tests the model from a state it was not fitted from)."""
    if heldout is not None:
        return train, heldout, ""
    if train.n_trajectories > 1:
        last = train.n_trajectories - 1
        return (train.select(list(range(last))), train.select([last]),
                f"no held-out data given: training trajectory {last} (the last) held out for validation")
    head, tail = train.split_time(HELDOUT_FRACTION)
    if tail.t.size < 10 or head.t.size < 20:
        raise DataError(f"`heldout` not given and `train` holds one trajectory of {train.t.size} samples, too few to "
                        f"hold out its last {HELDOUT_FRACTION:.0%} (at least 10 samples) and train on the rest; "
                        "pass `heldout` (e.g. a trajectory from another initial condition) or record longer.")
    return head, tail, (f"no held-out data given: the last {tail.t.size} of the training trajectory's {train.t.size} "
                        f"samples (t >= {tail.t[0]:g}) held out for validation, re-simulated from the state there")


def check_voltage_units(system: EquationSystem, data: Trajectories, argument: str) -> None:
    """Refuse voltage data whose range says the other unit: a membrane potential declared in mV
    never stays within +-1, and one declared in V never exceeds it (a 1000x mistake would
    otherwise train quietly on nonsense)."""
    for i, state in enumerate(data.states):
        unit, peak = system.units.get(state), float(np.max(np.abs(data.y[..., i])))
        if unit == "mV" and 0 < peak < 1.0:
            raise DataError(
                f"`{argument}` state {state!r} is declared in mV but never leaves +-{peak:.3g}: it looks like volts. "
                "Multiply it by 1000, or declare the unit 'V'."
            )
        if unit == "V" and peak > 1.0:
            raise DataError(
                f"`{argument}` state {state!r} is declared in V but reaches {peak:.3g}: it looks like millivolts. "
                "Divide it by 1000, or declare the unit 'mV'."
            )


def _check_hidden(system: EquationSystem, train: Trajectories, heldout: Trajectories,
                  options: DistillOptions) -> tuple[str, ...]:
    """The states the data do not record (none, usually), after checking both data sets leave out
    the same ones and that the run can handle them."""
    hidden = hidden_states(system, train)
    if hidden_states(system, heldout) != hidden:
        raise DataError(f"`train` records states {list(train.states)} but `heldout` records {list(heldout.states)}; "
                        "record the same states in both.")
    if hidden and system.spike is not None:
        raise ConfigError(f"hidden states {list(hidden)} with a spike rule are not supported: between spikes the "
                          "pieces are too short to learn where a hidden state starts. Record them, or compute them "
                          "from the spike times (as `[cell] adaptation` does).")
    if hidden and options.route == "direct":
        raise ConfigError(f"distill route \"direct\" needs every state's derivative, but {list(hidden)} are not "
                          "recorded; use route = \"ude\" or \"auto\" (which takes the UDE route then).")
    return hidden


def _route(system: EquationSystem, options: DistillOptions) -> str:
    """The route(s) to run: a spiking model has no smooth derivative through its spikes, so it
    takes the UDE route only."""
    route = options.route
    if system.spike is not None and route == "direct":
        raise ConfigError("distill route \"direct\" cannot fit a spiking model (its voltage has no smooth derivative "
                          "through a spike); use route = \"ude\" or \"auto\" (which takes the UDE route for it).")
    return "ude" if system.spike is not None else route


def _ude_default(name: str) -> Any:
    """The default of `UDE` setting `name` (what `UDE(system)` sets it to)."""
    return inspect.signature(UDE).parameters[name].default


def _selection_split(train: Trajectories, fraction: float,
                     window: int) -> tuple[Trajectories, Trajectories | None, dict[str, Any]]:
    """Hold out the end of each training trajectory to choose candidates on data the network never saw.

    When those ends would be too short for a `window`-step window but there are many trajectories
    (e.g. the spike-free pieces of a recording), every (1/fraction)-th trajectory is held out whole.
    Returns (data to train on, data to choose on or None, a record for the results).
    """
    cut = int(round(train.t.size * (1 - fraction)))
    every = int(round(1 / fraction)) if fraction > 0 else 0
    if fraction <= 0:
        why = "candidates were chosen on training windows (distill selection = 0)"
    elif train.t.size - cut >= window + 2 and cut > window + 1:
        head, tail = train.split_time(fraction)
        return head, tail, {"held_out": True, "fraction": fraction, "samples_per_trajectory": tail.t.size}
    elif train.n_trajectories >= 2 * every and train.t.size > window + 1:
        picked = np.arange(train.n_trajectories) % every == every - 1
        return train.select(np.flatnonzero(~picked)), train.select(np.flatnonzero(picked)), {
            "held_out": True, "fraction": fraction, "trajectories_held_out": int(picked.sum()),
            "samples_per_trajectory": train.t.size}
    else:
        why = (f"candidates were chosen on training windows: the held-out {fraction:g} of {train.t.size} samples "
               f"is too short for {window}-step windows")
    return train, None, {"held_out": False, "fraction": 0.0, "why": why}
