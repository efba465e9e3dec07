"""Choose between the UDE route and the direct route by how their discovered models re-simulate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._candidate import complexity, n_constants
from ..data import Trajectories
from ..equations import EquationSystem
from ..integrate import state_scale
from ..validate import resimulate
from ._rule import chosen_index


def route_score(system: EquationSystem, data: Trajectories, scale: np.ndarray) -> float:
    """Mean squared error, each state divided by `scale`, of re-simulating every trajectory of
    `data` whole from its first sample. Whole, not in windows: a model that fits short stretches
    but drifts or blows up over a longer run must lose here (a blow-up scores inf)."""
    predicted = resimulate(system, data)
    if not np.all(np.isfinite(predicted)):
        return float("inf")
    return float(np.mean(((predicted - data.y) / scale) ** 2))


def choose_route(systems: Mapping[str, EquationSystem], checks: Mapping[str, Trajectories], tolerance: float,
                 floor: float) -> dict[str, Any]:
    """Score each route's discovered system on every data set in `checks` (label -> data) and
    average; of those within `tolerance` x the best (+ `floor`), the one with the fewest
    constants (then the lowest error) wins, as for candidates.

    Two checks, not one: the held-out end of a trajectory is short (often a single window) and a
    model that explodes from other states can still follow it; re-simulating the whole training
    trajectory from its first sample exposes drift and blow-ups that a short stretch hides.
    Returns the record kept in the results."""
    if len(systems) == 1:  # nothing to choose between: no re-simulation spent on it
        (chosen, system), = systems.items()
        return {"routes": {chosen: _summary(system)}, "chosen": chosen,
                "why": f"only the {chosen} route ran"}
    # one scale for every check, from the largest: a held-out end near a fixed point has almost
    # no spread of its own and would weigh its noise as error
    largest = max(checks.values(), key=lambda d: d.y.size)
    scale = state_scale(largest)
    record: dict[str, Any] = {}
    for name, system in systems.items():
        scores = {label: route_score(system, data, scale) for label, data in checks.items()}
        record[name] = {"score": float(np.mean(list(scores.values()))), "scores": scores, **_summary(system)}
    names = sorted(record, key=lambda n: (record[n]["complexity"], n))
    chosen = names[chosen_index([record[n]["score"] for n in names], tolerance, floor,
                                [record[n]["constants"] for n in names])]  # the candidates' rule
    listing = ", ".join(f"{n} {record[n]['score']:.3g} ({record[n]['constants']} constants, complexity "
                        f"{record[n]['complexity']})" for n in names)
    why = (f"route auto: the {chosen} route was chosen: fewest constants, then lowest error, of the routes whose "
           f"mean re-simulation error on {' and '.join(checks)} is within {tolerance:g}x the best + {floor:g} "
           f"({listing})")
    return {"routes": record, "chosen": chosen, "why": why}


def _summary(system: EquationSystem) -> dict[str, Any]:
    return {"complexity": sum(complexity(e) for e in system.discovered.values()),
            "constants": sum(n_constants(e) for e in system.discovered.values()),
            "terms": {s: str(e) for s, e in system.discovered.items()}}
