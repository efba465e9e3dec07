"""The hybrid model: known right-hand sides plus neural-network residuals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from ..equations import EquationSystem, TorchRHS
from ..integrate import RHS


class MLPResidual(nn.Module):
    """A small MLP `R(features)` with fixed input standardisation and output scale.

    Standardising inside the module keeps the optimiser's problem well scaled whatever the
    physical units of the features; the last layer starts near zero so training begins from
    the known model.
    """

    mean: torch.Tensor  # buffers, registered in __init__
    std: torch.Tensor
    scale: torch.Tensor

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

    def folded(self):
        """The same function with the standardisation folded into the first layer and the output
        scale into the last: three fewer operations per call. Build it once per integration (the
        folded weights are computed from, and differentiate back to, the current parameters)."""
        linear = [m for m in self.net if isinstance(m, nn.Linear)]
        weights, biases = [m.weight for m in linear], [m.bias for m in linear]
        weights[0] = weights[0] / self.std
        biases[0] = biases[0] - weights[0] @ self.mean
        weights[-1], biases[-1] = weights[-1] * self.scale, biases[-1] * self.scale  # the same layer at depth 0
        layers = [(w.t(), b) for w, b in zip(weights, biases, strict=True)]

        def f(x: torch.Tensor) -> torch.Tensor:
            for weight, bias in layers[:-1]:
                x = torch.tanh(torch.addmm(bias, x, weight))
            return torch.addmm(layers[-1][1], x, layers[-1][0])[:, 0]
        return f

    def numpy(self) -> Callable[[np.ndarray], np.ndarray]:
        """The network in float64 numpy from a copy of its current weights (standardisation and
        scale folded in, as `folded` does)."""
        linear = [m for m in self.net if isinstance(m, nn.Linear)]
        weights = [m.weight.detach().double().numpy().copy() for m in linear]
        biases = [m.bias.detach().double().numpy().copy() for m in linear]
        mean, std, scale = (t.detach().double().numpy() for t in (self.mean, self.std, self.scale))
        weights[0] = weights[0] / std
        biases[0] = biases[0] - weights[0] @ mean
        weights[-1], biases[-1] = weights[-1] * scale, biases[-1] * scale
        layers = [(w.T.copy(), b) for w, b in zip(weights, biases, strict=True)]

        def f(x: np.ndarray) -> np.ndarray:
            for weight, bias in layers[:-1]:
                x = np.tanh(x @ weight + bias)
            return (x @ layers[-1][0] + layers[-1][1])[..., 0]
        return f


class HybridODE(nn.Module):
    """dy/dt = known(y, u) + R(features) on the states that carry a residual placeholder."""

    def __init__(self, system: EquationSystem, residuals: Sequence[MLPResidual]) -> None:
        super().__init__()
        self.system = system  # kept to rebuild `rhs` when unpickled
        self.rhs = TorchRHS(system)
        columns = (*system.states, *system.inputs)
        self.feature_index = [
            [columns.index(f) for f in system.residual_features(s)] for s in self.rhs.residual_states
        ]
        self.residuals = nn.ModuleList(residuals)
        self.n_states, self.n_inputs = len(system.states), len(system.inputs)

    # `rhs` is a tree of closures, which pickle cannot store: a pickled model carries the system
    # and compiles it again when loaded
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["rhs"]
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.rhs = TorchRHS(self.system)

    def residual_values(self, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor | None:
        if not self.feature_index:  # a closed system: nothing neural left
            return None
        z = torch.cat([y, u], dim=-1)
        pairs = zip(self.residuals, self.feature_index, strict=True)
        return torch.stack([net(z[..., idx]) for net, idx in pairs], dim=-1)

    def forward(self, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.rhs(y, u, self.residual_values(y, u))

    def numpy(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """`forward` in float64 numpy, `f(y, u)` on arrays `(batch, ...)`, from a copy of the current
        weights: re-simulating a recording sample by sample calls it hundreds of thousands of times,
        where a torch call on a few rows costs about 110 µs and this about 20."""
        known, nets = self.rhs.numpy(), [cast(MLPResidual, net).numpy() for net in self.residuals]
        index = self.feature_index

        def f(y: np.ndarray, u: np.ndarray) -> np.ndarray:
            if not nets:
                return known(y, u)
            z = np.concatenate([y, u], axis=-1)
            return known(y, u, np.stack([net(z[..., i]) for net, i in zip(nets, index, strict=True)], axis=-1))
        return f

    def fused(self) -> RHS:
        """`forward` with every network folded (`MLPResidual.folded`), for one integration of a
        batch: what training integrates, with fewer operations per right-hand-side call."""
        nets = [cast(MLPResidual, net).folded() for net in self.residuals]  # a ModuleList's items are Modules
        states_only = all(max(idx, default=-1) < self.n_states for idx in self.feature_index)  # no input among them
        width = self.n_states if states_only else self.n_states + self.n_inputs
        every = [idx == list(range(width)) for idx in self.feature_index]  # a network of every column, in order

        def f(y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
            if not nets:
                return self.rhs(y, u, None)
            z = y if states_only else torch.cat([y, u], dim=-1)
            r = [net(z if all_columns else z[:, idx])
                 for net, idx, all_columns in zip(nets, self.feature_index, every, strict=True)]
            return self.rhs(y, u, torch.stack(r, dim=-1))
        return f
