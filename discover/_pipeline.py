"""The whole pipeline in one call: fit a UDE, distil its residuals, validate by re-simulation.

`_discover` runs the stages in order, each handing a frozen record to the next: `prepare` (checks
and splits: a `Plan` and its `RunData`, in `_prepare.py`), `_run_routes` (training, distillation by
each route, the choice between them: `Routes`), `_finish` (joint choice, refit, pruning, rounding,
the spike-time check: `Final`), `_validate` (re-simulating the held-out data: `Validation`) and
`_notes`. Where a kind of run differs, a named function says how: a spiking model (`Plan.spiking`)
in `_spike_time_check`, `_spiking_predictions`, `_spike_thresholds` and `_spiking_notes`; hidden
states (`Plan.hidden`) in `with_hidden_estimates`, `_recorded_only` and `_hidden_note`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._discovery import Discovery, RefitRecord
from ._errors import check_keywords
from ._prepare import Plan, RunData, prepare, with_hidden_estimates
from ._progress import Progress, as_progress
from .choose import (
    StateDistillation,
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
from .ude import UDE
from .validate import (
    resimulate,
    resimulate_spiking,
    resimulate_spiking_together,
    rule_spike_metrics,
    spike_thresholds,
    torch_rhs,
    trajectory_metrics,
)

Found = Mapping[str, tuple[Mapping[str, StateDistillation], EquationSystem]]
"""Route -> (state -> `StateDistillation`, the system with the chosen terms)."""


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
    # option names first, so a typo fails in a second, not after training
    training = check_keywords("training", training or {}, UDE, exclude=("system", "progress"))
    options = DistillOptions.from_mapping(distill or {})  # checked once, here; every stage below reads its fields
    progress = as_progress(progress)
    plan, data = prepare(train, system, heldout, training, options)
    routes = _run_routes(plan, data, progress)
    start = time.perf_counter()
    final = _finish(plan, routes, progress)
    finishing, start = time.perf_counter() - start, time.perf_counter()
    checked = _validate(plan, routes, final.discovered, progress)
    seconds = {**routes.seconds, "distillation": routes.seconds["distillation"] + finishing,
               "validation": time.perf_counter() - start}
    return Discovery(
        system, final.discovered, routes.ude, final.distillation, routes.data.full_train, checked.heldout,
        checked.predictions, checked.metrics, seconds, final.refit, _notes(plan, routes, final),
        routes.data.selection, final.routes,
    )


@dataclass(frozen=True)
class Routes:
    """What training and distillation by each route produced, and the choice between the routes."""

    ude: UDE | None  # None when only the direct route ran
    found: Found
    record: Mapping[str, Any]  # the routes run, their terms and scores, the chosen one and why
    data: RunData  # with any hidden states' estimated trajectories
    seconds: Mapping[str, float]  # "training" (when the UDE route ran) and "distillation" so far

    @property
    def chosen(self) -> str:
        return str(self.record["chosen"])


def _run_routes(plan: Plan, data: RunData, progress: Progress) -> Routes:
    """Train and distil by the route(s) `plan` runs, each route's model refit when both ran, and choose between them."""
    system, options = plan.system, plan.options
    ude: UDE | None = None
    seconds: dict[str, float] = {}
    distilled: dict[str, tuple[Mapping[str, StateDistillation], str]] = {}  # route -> (distillation, how)
    start = time.perf_counter()
    if plan.route != "direct":
        with progress.stage("training the UDE"):
            ude = UDE(system, progress=progress, **plan.training).fit(data.fit)
        seconds["training"] = time.perf_counter() - start
        start = time.perf_counter()
        if ude.hidden_:
            data = with_hidden_estimates(plan, data, ude)
        distilled["ude"] = (distill_residuals(ude, data.fit, options, selection=data.chosen_on, progress=progress),
                            "distilled from the trained residual")
    smoothing = None
    if plan.route != "ude":
        with progress.stage("direct route: distilling the data's smoothed derivatives"):
            distillation, smoothing = distill_direct(system, data.fit, options, data.chosen_on, whole=data.train,
                                                     window=plan.window, substeps=plan.substeps)
        distilled["direct"] = distillation, f"distilled from the data's derivatives (smoothed over {smoothing} samples)"
    found: Found = {name: (d, system.replace_residuals({s: v.chosen.expression for s, v in d.items()}, how=how))
                    for name, (d, how) in distilled.items()}
    if len(found) > 1 and options.refit:
        found = _refit_routes(plan, found, data.fit, progress)
    record = choose_route({name: sys_ for name, (_, sys_) in found.items()}, _route_checks(data), *choice_rule(options))
    if smoothing is not None:
        record["smoothing"] = smoothing
    seconds["distillation"] = time.perf_counter() - start
    return Routes(ude, found, record, data, seconds)


def _refit_routes(plan: Plan, found: Found, fit: Trajectories, progress: Progress) -> Found:
    """Each route's model refit through the solver on `fit`, so the routes are compared at their best: a UDE
    route's right structure with the bias the network left in its numbers lost to the direct route's spurious
    terms before this refit (on the fitting part only, so the held-out ends stay held out; the winner is refit
    on all)."""
    with progress.stage("refitting each route's model before comparing the routes"):
        return {name: (d, refit_coefficients(sys_, fit, window=plan.window, substeps=plan.substeps,
                                             seed=plan.options.seed)[0])
                for name, (d, sys_) in found.items()}


def _route_checks(data: RunData) -> dict[str, Trajectories]:
    """The data the routes' models are compared on, by what they are: the part held out to choose on, if any, and
    the whole training data."""
    checks = {"the whole training trajectories": data.train}
    if data.chosen_on is None:
        return checks
    held = "the held-out training trajectories" if "trajectories_held_out" in data.selection else \
        "the held-out ends of the training trajectories"
    return {held: data.chosen_on, **checks}


@dataclass(frozen=True)
class Final:
    """The discovered model as the run ends up with it, after the steps that follow the choice of route."""

    discovered: EquationSystem
    distillation: Mapping[str, StateDistillation]  # the chosen route's (updated by the joint choice)
    refit: RefitRecord
    routes: Mapping[str, Any]  # `Routes.record` with the joint choice and the final terms added


def _finish(plan: Plan, routes: Routes, progress: Progress) -> Final:
    """The chosen route's model, its states' terms chosen together (where that applies), refit and pruned, rounded
    (unless spiking) and, for a spiking model, checked by spike times."""
    options, train = plan.options, routes.data.train
    distillation, discovered = routes.found[routes.chosen]
    record = routes.record
    if _joint_applies(plan):
        tolerance, floor = choice_rule(options)
        with progress.stage("choosing every state's terms together (joint choice)"):
            discovered, distillation, joint = choose_routes_jointly(
                plan.system, {name: d for name, (d, _) in routes.found.items()}, routes.chosen, train,
                piece=5 * plan.window, substeps=plan.substeps, tolerance=tolerance, floor=floor)
        record = {**record, "joint": joint}
    refit: RefitRecord = {}
    if options.refit:
        discovered, refit = _refit_and_prune(plan, discovered, train, progress)
    # window errors on spike-free pieces cannot see what rounding does to spike times (two
    # near-cancelling exponentials rounded to 1 digit passed that check and never spiked)
    if options.rounding(spiking=plan.spiking):
        with progress.stage("rounding the coefficients"):
            discovered, refit["rounded_to_digits"] = round_coefficients(
                discovered, train, window=plan.window, substeps=plan.substeps, seed=options.seed)
    if plan.spiking:
        discovered, refit["spike_times"] = _spike_time_check(plan, discovered, distillation, routes.data, progress)
    return Final(discovered, distillation, refit, _with_final_terms(record, discovered))


def _joint_applies(plan: Plan) -> bool:
    """Whether the states' terms are chosen together (`choose_routes_jointly`): not for spiking
    models, whose stretches between spikes are too short to fit initial states to, nor when
    candidates are chosen by residual error alone."""
    return plan.options.joint and not plan.spiking and plan.options.choose_by == "resimulation"


def _refit_and_prune(plan: Plan, discovered: EquationSystem, train: Trajectories,
                     progress: Progress) -> tuple[EquationSystem, RefitRecord]:
    """`discovered` with its numbers refit through the solver on `train`'s windows and (unless
    `options.prune` is False) the terms that do not pay for themselves dropped; and the record."""
    window, substeps, seed = plan.window, plan.substeps, plan.options.seed
    with progress.stage("refitting the discovered coefficients through the solver"):
        discovered, before, after = refit_coefficients(discovered, train, window=window, substeps=substeps, seed=seed)
    record: RefitRecord = {"window_error_before": before, "window_error_after": after}
    if plan.options.prune:
        tolerance, floor = choice_rule(plan.options)
        with progress.stage("pruning terms that do not pay for themselves"):
            discovered, record["pruned"] = prune_terms(discovered, train, window=window, substeps=substeps,
                                                       tolerance=tolerance, floor=floor, seed=seed)
    return discovered, record


def _spike_time_check(plan: Plan, discovered: EquationSystem, distillation: Mapping[str, StateDistillation],
                      data: RunData, progress: Progress) -> tuple[EquationSystem, dict[str, Any]]:
    """A spiking model's choice checked on the spike times of the whole training sweeps (`choose_by_spike_times`):
    window errors between spikes cannot see whether the model still reaches its threshold."""
    refit = (lambda m: _refit_and_prune(plan, m, data.train, progress)) if plan.options.refit else None
    with progress.stage("comparing candidates by the spike times of whole training sweeps"):
        return choose_by_spike_times(plan.system, discovered, distillation, data.full_train, plan.substeps,
                                     refit=refit)


def _with_final_terms(routes: Mapping[str, Any], discovered: EquationSystem) -> Mapping[str, Any]:
    """`routes` with the chosen route's terms as the model ends up (after the joint choice, refit,
    pruning, rounding and the spike-time check), the terms the routes were compared by kept beside
    them where those differ: every place that prints the discovered model prints the same one."""
    record = routes["routes"][routes["chosen"]]
    final = {s: str(e) for s, e in discovered.discovered.items()}
    if record.get("terms") == final:
        return routes
    record = {**record, "terms_compared": record.get("terms"), "terms": final}
    return {**routes, "routes": {**routes["routes"], routes["chosen"]: record}}


@dataclass(frozen=True)
class Validation:
    """The held-out data re-simulated by each model, and the scores."""

    heldout: Trajectories  # with any hidden states' estimates
    predictions: Mapping[str, np.ndarray]  # model -> re-simulation of `heldout`
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]]  # model -> recorded state -> score -> value


ROUTE_NAMES = {"ude": "UDE route", "direct": "direct route"}


def _validate(plan: Plan, routes: Routes, discovered: EquationSystem, progress: Progress) -> Validation:
    """Re-simulate the held-out data with the known part alone, the UDE, the discovered model and the route not
    chosen; score them on the recorded states."""
    progress.line("validating: re-simulating the held-out data with each model")
    system, ude, heldout = plan.system, routes.ude, routes.data.heldout
    recorded = [system.state_index(s) for s in heldout.states]
    if plan.hidden:  # from a hidden start fitted to the first two windows of each held-out trajectory
        assert ude is not None  # hidden states take the UDE route only (`prepare`)
        heldout = ude.complete(heldout)
    predictions = _spiking_predictions(system, ude, discovered, heldout) if plan.spiking else \
        _predictions(system, ude, discovered, heldout)
    for name, (_, other) in routes.found.items():  # the route not chosen, re-simulated for comparison
        if name != routes.chosen:
            predictions[f"{ROUTE_NAMES[name]}, not chosen"] = resimulate(other, heldout)
    scored = _recorded_only(heldout, recorded) if plan.hidden else heldout
    thresholds = _spike_thresholds(system) if plan.spiking else spike_thresholds(system, heldout)
    metrics = {
        name: trajectory_metrics(pred[..., recorded], scored, time_unit=system.time_unit, spike_threshold=thresholds)
        for name, pred in predictions.items()
    }
    if system.spike is not None and system.spike.moving:  # its spikes cross a moving threshold: found by the rule
        for name, pred in predictions.items():
            metrics[name][system.spike.state].update(rule_spike_metrics(system, scored, pred[..., recorded]))
    return Validation(heldout, predictions, metrics)


def _predictions(system: EquationSystem, ude: UDE | None, discovered: EquationSystem,
                 heldout: Trajectories) -> dict[str, np.ndarray]:
    """Each model re-simulating the held-out data: known part alone, UDE (where one was trained), discovered terms."""
    out = {"known only": resimulate(system.without_residuals(), heldout)}
    if ude is not None:
        out["UDE"] = ude.simulate(heldout)
    return {**out, "discovered": resimulate(discovered, heldout)}


def _spiking_predictions(system: EquationSystem, ude: UDE | None, discovered: EquationSystem,
                         heldout: Trajectories) -> dict[str, np.ndarray]:
    """`_predictions` of a spiking model: each re-simulated with the spike rule."""
    assert ude is not None  # a spiking model takes the UDE route only (`prepare`)
    models: dict[str, EquationSystem | Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "known only": system.without_residuals(), "UDE": torch_rhs(ude.model_)}
    if discovered.spike == system.spike:  # all three in one loop over the samples
        models["discovered"] = discovered
    together = resimulate_spiking_together(models, system, heldout, ude.substeps)
    if "discovered" not in together:
        together["discovered"] = resimulate_spiking(discovered, heldout, ude.substeps)
    return {name: together[name] for name in ("known only", "UDE", "discovered")}


def _spike_thresholds(system: EquationSystem) -> dict[str, float]:
    """Where a spiking model's spikes are counted in its re-simulations: its threshold crossings."""
    assert system.spike is not None
    return {system.spike.state: system.spike.threshold}


def _recorded_only(heldout: Trajectories, recorded: list[int]) -> Trajectories:
    """`heldout` without its hidden states' estimates: a hidden state has no data to score against."""
    return Trajectories(heldout.t, heldout.y[..., recorded], heldout.u, tuple(heldout.states[i] for i in recorded),
                        heldout.inputs)


def _notes(plan: Plan, routes: Routes, final: Final) -> tuple[str, ...]:
    """The caveats a user must know about this run (`Discovery.notes`)."""
    data, ude = routes.data, routes.ude
    notes: tuple[str, ...] = (final.routes["why"],) if len(routes.found) > 1 else ()
    notes += (data.held_note,) if data.held_note else ()
    notes += tuple(
        f"input or state `{f}` was constant in the training data, so the residual's dependence on it "
        "is not identifiable; the discovered terms hold at that value only."
        for f in (ude.constant_features_ if ude is not None else _constant_features(plan.system, data.fit))
    )
    if not data.selection["held_out"]:
        notes += (data.selection["why"],)
    if plan.hidden:
        notes += (_hidden_note(plan.hidden),)
    notes += _ude_notes(ude) if ude is not None else ()
    if plan.spiking:
        notes += _spiking_notes(data, final.refit)
    return notes


def _hidden_note(hidden: tuple[str, ...]) -> str:
    names = ", ".join(hidden)
    return (f"{names} not recorded (hidden): trained from a start learned per trajectory through the known "
            "equations, driven by the recorded states; every model re-simulates the held-out data from a hidden "
            f"start fitted to their first two windows, and what the data show for {names} is that estimate, not a "
            "recording (scores cover recorded states only)")


def _ude_notes(ude: UDE) -> tuple[str, ...]:
    """How the UDE was trained, where that is not the plain one step per sample from scratch."""
    notes: tuple[str, ...] = ()
    if ude.stride_ > 1:
        error = (f" (error {ude.stride_error_:.2g} noise s.d. when last checked)" if np.isfinite(ude.stride_error_)
                 else "")
        notes += (f"UDE trained with one RK4 step per {ude.stride_} samples{error}, then polished at one step per "
                  "sample",)
    if ude.resumed_from_ is not None:
        notes += (f"UDE training resumed at Adam step {ude.resumed_from_} from the checkpoint of an interrupted run",)
    return notes


def _spiking_notes(data: RunData, refit: RefitRecord) -> tuple[str, ...]:
    """What a spiking model was trained on, and the spike-time check's reason."""
    return (f"trained and distilled on {data.train.n_trajectories} spike-free pieces of {data.train.t.size} samples "
            f"cut from {data.full_train.n_trajectories} training sweeps; held-out sweeps re-simulated with the "
            "spike rule", refit["spike_times"]["reason"])


def _constant_features(system: EquationSystem, data: Trajectories) -> list[str]:
    """Residual features that never vary in `data` (the direct route drops them, as the UDE does)."""
    columns = {**{s: data.y[..., i] for i, s in enumerate(data.states)},
               **{u: data.u[..., i] for i, u in enumerate(data.inputs)}}
    used = dict.fromkeys(f for s in system.residuals for f in system.residual_features(s))
    return [f for f in used if np.ptp(columns[f]) == 0]
