"""Distil the learned latent vector field, in an aligned frame, into closed-form equations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._errors import DataError
from ..distill import SparseDistiller
from ..equations import EquationSystem
from ._align import Alignment
from ._data import Population
from ._fit import LatentODE

# The field is the network's, evaluated without noise: each term must cut what the fewer-term fit
# leaves by a fifth (see `choose_per_term`). Measured on the fronts of fitted benchmark models:
# Lorenz's -y in dy/dt cut 29 % (8000 steps; taken at factors up to 1.40); at 1.1 FitzHugh-Nagumo's
# dv/dt took 4 spurious terms (its dense fits gain 4-9 % per term) and a 3000-step Lorenz dx/dt 2;
# the damped rotation's spurious quadratics gain 2-8 %. 1.2-1.3 chose the same on all of them. The
# knee rule (within 2x the best) left -y out; "within 1.3x the best" gave FitzHugh-Nagumo 4 more.
LATENT_CHOICE = {"criterion": "per_term", "tolerance": 1.25}


def distill_latent_field(model: LatentODE, data: Population, alignment: Alignment,
                         names: Sequence[str] | None = None, sparse: Mapping[str, Any] | None = None,
                         ) -> tuple[EquationSystem, dict[str, SparseDistiller]]:
    """The latent field in the frame of `alignment`, as an `EquationSystem` of closed-form terms.

    The field is evaluated where the data put the latents (every inferred state of every trial),
    mapped into the frame (x = z M + c, dx/dt = dz/dt M), and each coordinate's derivative is
    distilled by `SparseDistiller` (`sparse`: its keywords; default polynomials to degree 2,
    chosen by `LATENT_CHOICE`) on the aligned states. Returns the system and each state's fitted
    distiller (candidates, front, inclusion frequencies).
    """
    z = model.transform(data).reshape(-1, model.model_.readout.in_features)
    x, dx = alignment.apply(z), alignment.velocity(model.field(z))
    names = tuple(names or (f"z{k + 1}" for k in range(x.shape[1])))
    if len(names) != x.shape[1]:
        raise DataError(f"`names` gives {len(names)} names for {x.shape[1]} aligned latent states.")
    distillers, found = {}, {}
    for k, name in enumerate(names):
        distillers[name] = SparseDistiller(**{"degree": 2, **LATENT_CHOICE, **(sparse or {})}).fit(x, dx[:, k], names)
        found[name] = distillers[name].expression_
    system = field_skeleton(names, names)
    provenance = "latent field distilled by SparseDistiller in an aligned frame"
    return system.replace_residuals(found, provenance), distillers


def field_skeleton(names, residual, name: str = "latent_field", time_unit: str = "1") -> EquationSystem:
    """Latent states `names` with nothing known: each state in `residual` gets a residual of every state."""
    system = EquationSystem.from_text([f"d{n}/dt = 0" for n in names], name=name, time_unit=time_unit)
    for state in residual:
        system = system.with_residual(state, names)
    return system


def rate_r2(predicted: np.ndarray, true: np.ndarray) -> float:
    """R² of predicted against true rates over every trial, bin and neuron (1 - SSE/SST)."""
    predicted, true = np.asarray(predicted, float), np.asarray(true, float)
    return float(1.0 - ((predicted - true) ** 2).sum() / ((true - true.mean()) ** 2).sum())
