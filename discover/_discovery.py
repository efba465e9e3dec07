"""What a run produced: the one record results folders, reports and exports are written from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import Trajectories
from .equations import EquationSystem

if TYPE_CHECKING:
    from .choose import StateDistillation
    from .ude import UDE


@dataclass(frozen=True, eq=False)
class Discovery:
    """Everything a run produced.

    - `known`: the system trained, residual placeholders included.
    - `discovered`: the same system with each residual replaced by its distilled terms.
    - `ude`: the fitted `UDE` (None when only the direct route ran); `distillation`: state ->
      `StateDistillation` of the chosen route (every candidate, the Pareto front, the scores, the
      choice and why); `refit`: what happened after the choice, by key: `window_error_before`,
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
    refit: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default=())
    selection: Mapping[str, Any] = field(default_factory=dict)
    routes: Mapping[str, Any] = field(default_factory=dict)
