"""Re-simulate a closed-form model against data it has to reproduce."""

from __future__ import annotations

import numpy as np

from ..data import Trajectories, integrate
from ..equations import EquationSystem


def resimulate(system: EquationSystem, data: Trajectories) -> np.ndarray:
    """Integrate `system` from each trajectory's first observed sample, with that trajectory's inputs.

    Returns `(n_trajectories, n_times, n_states)`; samples after a blow-up are NaN.
    """
    return integrate(system, data.y[:, 0], data.t, data.u, rtol=1e-7, atol=1e-9, on_failure="nan")
