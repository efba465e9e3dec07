"""The whole pipeline in one call: fit a UDE, distil its residuals, validate by re-simulation."""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._discovery import Discovery
from ._errors import ConfigError, DataError, check_keywords
from ._progress import Progress, as_progress
from .cell import spike_free_chunks
from .choose import (
    choice_rule,
    choose_by_spike_times,
    choose_route,
    choose_routes_jointly,
    prune_terms,
    refit_coefficients,
    round_coefficients,
)
from .data import Trajectories
from .distill import DistillOptions, distill_direct, distill_residuals
from .equations import EquationSystem
from .integrate import one_blas_thread
from .ude import UDE, hidden_states
from .validate import (
    resimulate,
    resimulate_spiking,
    rule_spike_metrics,
    spike_thresholds,
    torch_rhs,
    trajectory_metrics,
)


def discover(
    train: Trajectories,
    system: EquationSystem,
    heldout: Trajectories | None = None,
    *,
    training: Mapping[str, Any] | None = None,
    distill: Mapping[str, Any] | DistillOptions | None = None,
    progress: bool | Progress = True,
) -> Discovery:
    """Fit `system` (with residual placeholders) to `train`, distil, and validate on `heldout`.

    `training` holds keyword arguments of `UDE`. `distill` (a `DistillOptions`, or a mapping of its
    fields) holds `route` ("auto", the default:
    run both routes and keep the one whose discovered model re-simulates the held-out ends of
    the training trajectories better, the simpler at equal error; "ude": train a network and
    distil it; "direct": distil the data's smoothed derivatives, no network), `backends` (any of "sparse",
    "symbolic"; default both), per-backend keyword arguments under `sparse` (`SparseDistiller`)
    and `symbolic` (`SymbolicDistiller`), `choose_by` ("resimulation", default, or "residual"),
    `tolerance`, `floor` (the simplest candidate scoring within tolerance x best + floor wins;
    1.5 and 1e-4, scores being mean squared window errors over each state's variance),
    `refit` (refit coefficients through the ODE solver; default True), `refit_candidates` (how
    many of the best-scoring front candidates are refit before the choice; default 6), `joint` (then choose
    every state's terms together, each combination of the routes' candidates fitted, numbers and
    initial states, to 5-window stretches of the training data; default True, not for spiking
    models), `round` (round them to
    the fewest digits that do not hurt; default True, False for spiking systems), `selection` (fraction of each training
    trajectory's end held out from training, on which candidates are chosen; default 0.2) and `seed`.

    Without `heldout`, the last training trajectory is held out, or with one trajectory its last
    quarter (`HELDOUT_FRACTION`), re-simulated from the state where it starts; a note says which.

    `train` and `heldout` may record only some of `system`'s states (the same ones, in its order): the
    others are hidden, their known equations driven by the recorded states from learned starts (see
    `UDE`); the UDE route then runs alone, every later stage sees the estimated hidden trajectories,
    and held-out scores cover the recorded states.

    `progress`: True reports each stage on standard error (a bar for loops in a terminal, a line
    per stage with its time otherwise), False nothing; or a `Progress` of your own.
    """
    with one_blas_thread():  # numpy's small solves between torch calls (see one_blas_thread)
        return _discover(train, system, heldout, training=training, distill=distill, progress=progress)


def _discover(train: Trajectories, system: EquationSystem, heldout: Trajectories | None, *,
              training: Mapping[str, Any] | None, distill: Mapping[str, Any] | DistillOptions | None,
              progress: bool | Progress) -> Discovery:
    # Error checking: option names first, so a typo fails in a second, not after training
    training = check_keywords("training", training or {}, UDE, exclude=("system", "progress"))
    options = DistillOptions.from_mapping(distill or {})  # checked once, here; every stage below reads its fields
    train, heldout, held_note = hold_out(train, heldout)
    for name, data in (("train", train), ("heldout", heldout)):
        check_voltage_units(system, data, name)
    hidden = _check_hidden(system, train, heldout, options)
    progress = as_progress(progress)

    # Main loop
    seconds: dict[str, float] = {}
    full_train, route = train, "ude" if hidden else _route(system, options)
    if system.spike is not None and "window" not in training:
        # Near the threshold a spiking model diverges within a few samples: a 20-sample window
        # started from a noisy sample there cannot follow the upstroke's timing, and the loss is then
        # smallest for a model with the upstroke damped away (an outward current at depolarised V,
        # seen on simulated Izhikevich data and on the real FSI). 8 samples recover Izhikevich's
        # 0.04 v^2 and the EIF's exponential; 4-5 make the EIF's slope too shallow.
        training = {**training, "window": SPIKING_WINDOW}
    window = int(training.get("window", _ude_default("window")))
    substeps = int(training.get("substeps", _ude_default("substeps")))
    if system.spike is not None:
        # a smooth ODE cannot follow a spike: train and distil on the stretches between spikes
        train = spike_free_chunks(train, system.spike, 3 * window)
    fit_data, chosen_on, selection = _selection_split(train, options.selection, training)
    ude, found, routes, (chosen_on, train) = _run_routes(system, route, fit_data, chosen_on, train, selection,
                                                         training, options, progress, seconds, window, substeps)
    start = time.perf_counter()
    distillation, discovered = found[routes["chosen"]]
    if _joint_applies(system, options):
        tolerance, floor = choice_rule(options)
        with progress.stage("choosing every state's terms together (joint choice)"):
            discovered, distillation, routes["joint"] = choose_routes_jointly(
                system, {name: d for name, (d, _) in found.items()}, routes["chosen"], train, piece=5 * window,
                substeps=substeps, tolerance=tolerance, floor=floor)
    refit: dict[str, Any] = {}
    if options.refit:
        discovered, refit = _refit_and_prune(discovered, train, options, window, substeps, progress)
    # window errors on spike-free pieces cannot see what rounding does to spike times (two
    # near-cancelling exponentials rounded to 1 digit passed that check and never spiked)
    if options.rounding(spiking=system.spike is not None):
        with progress.stage("rounding the coefficients"):
            discovered, digits = round_coefficients(
                discovered, train, window=window, substeps=substeps, seed=options.seed
            )
        refit["rounded_to_digits"] = digits
    if system.spike is not None:
        # window errors between spikes cannot see whether the model still reaches its threshold
        with progress.stage("comparing candidates by the spike times of whole training sweeps"):
            discovered, refit["spike_times"] = choose_by_spike_times(
                system, discovered, distillation, full_train, substeps,
                refit=(lambda m: _refit_and_prune(m, train, options, window, substeps, progress))
                if options.refit else None)
    _record_final_terms(routes, discovered)
    seconds["distillation"] += time.perf_counter() - start

    start = time.perf_counter()
    progress.line("validating: re-simulating the held-out data with each model")
    recorded, heldout = [system.state_index(s) for s in heldout.states], ude.complete(heldout) if hidden else heldout
    if hidden:
        full_train = train
    predictions = _predictions(system, ude, discovered, heldout)
    for name, (_, other) in found.items():  # the route not chosen, re-simulated for comparison
        if name != routes["chosen"]:
            predictions[f"{ROUTE_NAMES[name]}, not chosen"] = resimulate(other, heldout)
    thresholds = spike_thresholds(system, heldout)
    if system.spike is not None:  # the model's spikes are its threshold crossings
        thresholds = {system.spike.state: system.spike.threshold}
    scored = heldout if not hidden else Trajectories(heldout.t, heldout.y[..., recorded], heldout.u,
                                                     tuple(heldout.states[i] for i in recorded), heldout.inputs)
    metrics = {  # recorded states only: a hidden state has no data to score against
        name: trajectory_metrics(pred[..., recorded], scored, time_unit=system.time_unit, spike_threshold=thresholds)
        for name, pred in predictions.items()
    }
    if system.spike is not None and system.spike.moving:  # its spikes cross a moving threshold: found by the rule
        for name, pred in predictions.items():
            metrics[name][system.spike.state].update(rule_spike_metrics(system, scored, pred[..., recorded]))
    seconds["validation"] = time.perf_counter() - start

    # Finish up
    notes: tuple[str, ...] = (routes["why"],) if len(found) > 1 else ()
    notes += (held_note,) if held_note else ()
    notes += tuple(
        f"input or state `{f}` was constant in the training data, so the residual's dependence on it "
        "is not identifiable; the discovered terms hold at that value only."
        for f in (ude.constant_features_ if ude is not None else _constant_features(system, fit_data))
    )
    if not selection["held_out"]:
        notes += (selection["why"],)
    if hidden:
        notes += (f"{', '.join(hidden)} not recorded (hidden): trained from a start learned per trajectory through "
                  "the known equations, driven by the recorded states; every model re-simulates the held-out data "
                  "from a hidden start fitted to their first two windows, and what the data show for "
                  f"{', '.join(hidden)} is that estimate, not a recording (scores cover recorded states only)",)
    if ude is not None and ude.stride_ > 1:
        error = (f" (error {ude.stride_error_:.2g} noise s.d. when last checked)" if np.isfinite(ude.stride_error_)
                 else "")
        notes += (f"UDE trained with one RK4 step per {ude.stride_} samples{error}, then polished at one step per "
                  "sample",)
    if ude is not None and ude.resumed_from_ is not None:
        notes += (f"UDE training resumed at Adam step {ude.resumed_from_} from the checkpoint of an interrupted run",)
    if system.spike is not None:
        notes += (f"trained and distilled on {train.n_trajectories} spike-free pieces of {train.t.size} samples "
                  f"cut from {full_train.n_trajectories} training sweeps; held-out sweeps re-simulated with the "
                  "spike rule",)
        notes += (refit["spike_times"]["reason"],)
    return Discovery(
        system, discovered, ude, distillation, full_train, heldout, predictions, metrics, seconds, refit, notes,
        selection, routes,
    )


def _refit_and_prune(discovered: EquationSystem, train: Trajectories, options: DistillOptions, window: int,
                     substeps: int, progress: Progress) -> tuple[EquationSystem, dict[str, Any]]:
    """`discovered` with its numbers refit through the solver on `train`'s windows and (unless
    `options.prune` is False) the terms that do not pay for themselves dropped; and the record."""
    seed = options.seed
    with progress.stage("refitting the discovered coefficients through the solver"):
        discovered, before, after = refit_coefficients(discovered, train, window=window, substeps=substeps, seed=seed)
    record: dict[str, Any] = {"window_error_before": before, "window_error_after": after}
    if options.prune:
        tolerance, floor = choice_rule(options)
        with progress.stage("pruning terms that do not pay for themselves"):
            discovered, record["pruned"] = prune_terms(discovered, train, window=window, substeps=substeps,
                                                       tolerance=tolerance, floor=floor, seed=seed)
    return discovered, record


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


def _record_final_terms(routes: dict[str, Any], discovered: EquationSystem) -> None:
    """The chosen route's terms as the model ends up (after the joint choice, refit, pruning,
    rounding and the spike-time check), with the terms the routes were compared by kept beside
    them where those differ: every place that prints the discovered model prints the same one."""
    record = routes["routes"][routes["chosen"]]
    final = {s: str(e) for s, e in discovered.discovered.items()}
    if record.get("terms") != final:
        record["terms_compared"], record["terms"] = record.get("terms"), final


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


def _run_routes(system, route, fit_data, chosen_on, train, selection, training, options: DistillOptions, progress,
                seconds, window, substeps):
    """Train and distil by the route(s) asked for; returns (the UDE or None, route -> (state ->
    `StateDistillation`, discovered system), the route record with the choice, (`chosen_on`,
    `train`) with any hidden states' estimated trajectories added)."""
    ude, distilled, smoothing = None, {}, None  # route -> (state -> `StateDistillation`, how the terms were found)
    start = time.perf_counter()
    if route != "direct":
        with progress.stage("training the UDE"):
            ude = UDE(system, progress=progress, **training).fit(fit_data)
        seconds["training"] = time.perf_counter() - start
        start = time.perf_counter()
        if ude.hidden_:  # every later stage sees the hidden states' estimated trajectories
            fit_data, train = ude.completed_, ude.complete(train)
            if chosen_on is not None:  # part of `train`: cut from its completion, not fitted a start of its own
                _, chosen_on, _ = _selection_split(train, options.selection, training)
        distilled["ude"] = distill_residuals(ude, fit_data, options, selection=chosen_on, progress=progress), \
            "distilled from the trained residual"
    if route != "ude":
        with progress.stage("direct route: distilling the data's smoothed derivatives"):
            distillation, smoothing = distill_direct(system, fit_data, options, chosen_on, whole=train,
                                                     window=window, substeps=substeps)
        distilled["direct"] = distillation, f"distilled from the data's derivatives (smoothed over {smoothing} samples)"
    found = {name: (d, system.replace_residuals({s: v.chosen.expression for s, v in d.items()}, how=how))
             for name, (d, how) in distilled.items()}
    if len(found) > 1 and options.refit:
        # each route's model compared at its best: a UDE route's right structure with the bias the
        # network left in its numbers lost to the direct route's spurious terms before this refit
        # (on the fitting part only, so the held-out ends stay held out; the winner is refit on all)
        with progress.stage("refitting each route's model before comparing the routes"):
            found = {name: (d, refit_coefficients(sys_, fit_data, window=window, substeps=substeps,
                                                  seed=options.seed)[0])
                     for name, (d, sys_) in found.items()}
    checks = {"the whole training trajectories": train}
    if chosen_on is not None:
        held = "the held-out training trajectories" if "trajectories_held_out" in selection else \
            "the held-out ends of the training trajectories"
        checks = {held: chosen_on, **checks}
    routes = choose_route({name: sys_ for name, (_, sys_) in found.items()}, checks,
                          *choice_rule(options))
    if smoothing is not None:
        routes["smoothing"] = smoothing
    seconds["distillation"] = time.perf_counter() - start
    return ude, found, routes, (chosen_on, train)


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


def _constant_features(system: EquationSystem, data: Trajectories) -> list[str]:
    """Residual features that never vary in `data` (the direct route drops them, as the UDE does)."""
    columns = {**{s: data.y[..., i] for i, s in enumerate(data.states)},
               **{u: data.u[..., i] for i, u in enumerate(data.inputs)}}
    used = dict.fromkeys(f for s in system.residuals for f in system.residual_features(s))
    return [f for f in used if np.ptp(columns[f]) == 0]


def _joint_applies(system: EquationSystem, options: DistillOptions) -> bool:
    """Whether the states' terms are chosen together (`choose_routes_jointly`): not for spiking
    models, whose stretches between spikes are too short to fit initial states to, nor when
    candidates are chosen by residual error alone."""
    return options.joint and system.spike is None and options.choose_by == "resimulation"


def _route(system: EquationSystem, options: DistillOptions) -> str:
    """The route(s) to run: a spiking model has no smooth derivative through its spikes, so it
    takes the UDE route only."""
    route = options.route
    if system.spike is not None and route == "direct":
        raise ConfigError("distill route \"direct\" cannot fit a spiking model (its voltage has no smooth derivative "
                          "through a spike); use route = \"ude\" or \"auto\" (which takes the UDE route for it).")
    return "ude" if system.spike is not None else route


ROUTE_NAMES = {"ude": "UDE route", "direct": "direct route"}
SPIKING_WINDOW = 8
"""Default training window (samples) for a spiking system (one with a spike rule)."""


def _predictions(system: EquationSystem, ude: UDE | None, discovered: EquationSystem, heldout: Trajectories) -> dict:
    """Each model re-simulating the held-out data: known part alone, UDE (where one was trained), discovered terms."""
    if system.spike is None:
        out = {"known only": resimulate(system.without_residuals(), heldout)}
        if ude is not None:
            out["UDE"] = ude.simulate(heldout)
        return {**out, "discovered": resimulate(discovered, heldout)}
    assert ude is not None  # a spiking model takes the UDE route only (`_route`)
    return {
        "known only": resimulate_spiking(system.without_residuals(), heldout, ude.substeps),
        "UDE": resimulate_spiking(system, heldout, ude.substeps, f=torch_rhs(ude.model_)),
        "discovered": resimulate_spiking(discovered, heldout, ude.substeps),
    }


def _ude_default(name: str) -> Any:
    """The default of `UDE` setting `name` (what `UDE(system)` sets it to)."""
    return inspect.signature(UDE).parameters[name].default


def _selection_split(train: Trajectories, fraction: float, training: Mapping[str, Any]):
    """Hold out the end of each training trajectory to choose candidates on data the network never saw.

    When those ends would be too short for a window but there are many trajectories (e.g. the
    spike-free pieces of a recording), every (1/fraction)-th trajectory is held out whole.
    Returns (data to train on, data to choose on or None, a record for the results).
    """
    window = int(training.get("window", _ude_default("window")))
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
