"""The hybrid model: known right-hand sides plus neural-network residuals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..equations import EquationSystem, TorchRHS


class MLPResidual(nn.Module):
    """A small MLP `R(features)` with fixed input standardisation and output scale.

    Standardising inside the module keeps the optimiser's problem well scaled whatever the
    physical units of the features; the last layer starts near zero so training begins from
    the known model.
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray, scale: float, width: int, depth: int) -> None:
        super().__init__()
        n_in = len(mean)
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(n_in if i == 0 else width, width), nn.Tanh()]
        last = nn.Linear(width if depth else n_in, 1)
        nn.init.normal_(last.weight, std=1e-3)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.get_default_dtype()))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.get_default_dtype()))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)[..., 0] * self.scale


class HybridODE(nn.Module):
    """dy/dt = known(y, u) + R(features) on the states that carry a residual placeholder."""

    def __init__(self, system: EquationSystem, residuals: Sequence[MLPResidual]) -> None:
        super().__init__()
        self.rhs = TorchRHS(system)
        columns = (*system.states, *system.inputs)
        self.feature_index = [
            [columns.index(f) for f in system.residual_features(s)] for s in self.rhs.residual_states
        ]
        self.residuals = nn.ModuleList(residuals)

    def residual_values(self, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor | None:
        if not self.feature_index:  # a closed system: nothing neural left
            return None
        z = torch.cat([y, u], dim=-1)
        return torch.stack([net(z[..., idx]) for net, idx in zip(self.residuals, self.feature_index)], dim=-1)

    def forward(self, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.rhs(y, u, self.residual_values(y, u))
