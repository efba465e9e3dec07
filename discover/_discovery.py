"""What a run produced: the one record results folders, reports and exports are written from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from .data import Trajectories
from .equations import EquationSystem

if TYPE_CHECKING:
    from .choose import StateDistillation
    from .ude import UDE


class RefitRecord(TypedDict, total=False):
    """What happened after the choice (`Discovery.refit`): a key is there only when its step ran. A
    mapping, not a dataclass: it is written into metrics.json as it is, and read by key."""

    window_error_before: float  # the coefficients refit through the solver: window error before and after
    window_error_after: float
    pruned: list[str]  # the terms dropped, each with why
    rounded_to_digits: int | None
    spike_times: Mapping[str, Any]  # spiking models: every compared model's training Gamma, the choice and why


@dataclass(frozen=True, eq=False)
class Discovery:
    """Everything a run produced.

    - `known`: the system trained, residual placeholders included.
    - `discovered`: the same system with each residual replaced by its distilled terms.
    - `ude`: the fitted `UDE` (None when only the direct route ran); `distillation`: state ->
      `StateDistillation` of the chosen route (every candidate, the Pareto front, the scores, the
      choice and why); `refit` (a `RefitRecord`): what happened after the choice, by key: `window_error_before`,
      `window_error_after` (floats: the coefficients refit through the solver), `pruned` (the
      terms dropped), `rounded_to_digits` (an int), `spike_times` (spiking models: every
      compared model's training Gamma and spike-count error, the choice and why).
    - `routes`: which routes ran ("ude": distil a trained network; "direct": distil the data's
      smoothed derivatives), each one's discovered terms, held-out score and complexity, the
      chosen route and why (`route = "auto"` runs both).
    - `train`, `heldout`: the data; `predictions`: model -> re-simulation of `heldout`
      (`known only`, `UDE`, `discovered`); `metrics`: model -> state -> RMSE, NRMSE, R².
    - `seconds`: stage -> wall time; `notes`: caveats a user must know (e.g. unidentifiable inputs).
    """

    known: EquationSystem
    discovered: EquationSystem
    ude: UDE | None
    distillation: Mapping[str, StateDistillation]
    train: Trajectories
    heldout: Trajectories
    predictions: Mapping[str, np.ndarray]
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]]
    seconds: Mapping[str, float]
    refit: RefitRecord = field(default_factory=RefitRecord)
    notes: tuple[str, ...] = field(default=())
    selection: Mapping[str, Any] = field(default_factory=dict)
    routes: Mapping[str, Any] = field(default_factory=dict)
