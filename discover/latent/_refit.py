"""Refit distilled latent equations through the Poisson likelihood of the spike counts.

A sparse regression of the network's field inherits the network's errors, and on an attractor
(Lorenz's is nearly flat) the library's columns are so alike that small errors move coefficients a
lot. Here the distilled polynomial replaces the network inside the autoencoder, in the aligned
frame, and its coefficients are trained on the counts themselves, with terms whose share of the
field stays below `threshold` removed as training goes (sequential thresholding, as in SINDy).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import numpy as np
import sympy as sp
import torch
from torch import nn

from .._errors import FitError
from ..equations import EquationSystem
from ..integrate import torch_settings
from ._align import Alignment
from ._data import Population
from ._fit import LatentODE
from ._model import SequentialAutoencoder, batch_loss, descend, integrate


class PolynomialField(nn.Module):
    """dx/dt = Θ(x) Ξ over every monomial of the states up to `degree`, Ξ starting at `start`'s
    distilled coefficients (0 for the monomials it lacks); masked terms stay 0."""

    scale: torch.Tensor  # buffers, registered in __init__
    mask: torch.Tensor

    def __init__(self, names: Sequence[str], degree: int, start: EquationSystem) -> None:
        super().__init__()
        self.names = tuple(names)
        self.exponents = [e for d in range(degree + 1)
                          for e in itertools.product(range(d + 1), repeat=len(names)) if sum(e) == d]
        symbols = [start.symbol(n) for n in names]
        coef = np.zeros((len(self.exponents), len(names)))
        for k, name in enumerate(names):
            expr = sp.expand(start.discovered.get(name, sp.Integer(0)))
            if not expr.is_polynomial(*symbols) or sp.Poly(expr, *symbols).total_degree() > degree:
                raise FitError(f"refit_latent_equations refits polynomials of degree <= {degree}; d{name}/dt = {expr} "
                               f"is not one. Distil with sparse={{'library': ['polynomial'], 'degree': {degree}}}.")
            for monomial, value in sp.Poly(expr, *symbols).terms():
                coef[self.exponents.index(tuple(monomial)), k] = float(value)
        self.register_buffer("scale", torch.ones(coef.shape))
        self.raw = nn.Parameter(torch.tensor(coef, dtype=torch.float32))
        self.register_buffer("mask", torch.ones_like(self.raw))

    def rescale(self, x: torch.Tensor, dx: torch.Tensor) -> None:
        """Train Ξ in units of (each equation's RMS / each monomial's RMS) over samples `x` (with field
        `dx`): Lorenz's monomials span 1 to ~2000, and one learning rate cannot serve them all."""
        with torch.no_grad():
            coef = self.coef
            self.scale.copy_(dx.pow(2).mean(0).sqrt()[None] / self.library(x).pow(2).mean(0).sqrt()[:, None])
            self.raw.copy_(coef / self.scale)

    @property
    def coef(self) -> torch.Tensor:
        return self.raw * self.scale

    def library(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.prod(x ** torch.tensor(e, dtype=x.dtype), dim=-1) for e in self.exponents], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.library(x) @ (self.coef * self.mask)

    def equations(self) -> dict[str, sp.Expr]:
        symbols = [sp.Symbol(n, real=True) for n in self.names]
        coef = (self.coef * self.mask).detach().numpy()
        return {name: sp.Add(*(sp.Float(float(f"{c:.4g}")) * sp.Mul(*(s**p for s, p in zip(symbols, e, strict=True)))
                               for e, c in zip(self.exponents, coef[:, k], strict=True) if c != 0))
                for k, name in enumerate(self.names)}


class AlignedAutoencoder(nn.Module):
    """The fitted autoencoder rewritten in the aligned frame x = z M + c, its field a `PolynomialField`."""

    matrix: torch.Tensor  # buffers, registered in __init__
    offset: torch.Tensor

    def __init__(self, fitted: SequentialAutoencoder, alignment: Alignment, field: PolynomialField) -> None:
        super().__init__()
        self.encoder = copy.deepcopy(fitted.encoder)
        self.register_buffer("matrix", torch.tensor(alignment.matrix, dtype=torch.float32))
        self.register_buffer("offset", torch.tensor(alignment.offset, dtype=torch.float32))
        self.field_net = field
        if alignment.matrix.shape[0] != alignment.matrix.shape[1] or np.linalg.cond(alignment.matrix) > 1e8:
            raise FitError("refitting needs an invertible alignment between latents of the same dimension; "
                           f"got a {alignment.matrix.shape} map with condition number "
                           f"{np.linalg.cond(alignment.matrix):.3g}. Align to a reference of the model's latent_dim.")
        weight, bias = alignment.readout(fitted.readout.weight.detach().double().numpy(),
                                         fitted.readout.bias.detach().double().numpy())
        self.readout = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.readout.weight.copy_(torch.tensor(weight, dtype=torch.float32))
            self.readout.bias.copy_(torch.tensor(bias, dtype=torch.float32))

    def forward(self, counts: torch.Tensor, dt: float, substeps: int) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = self.encoder(counts) @ self.matrix + self.offset
        x = integrate(self.field_net, x0, counts.shape[1], dt, substeps)
        return x, self.readout(x)


def refit_latent_equations(model: LatentODE, data: Population, alignment: Alignment, start: EquationSystem,
                           *, degree: int = 2, iterations: int = 1000, learning_rate: float = 1e-2,
                           threshold: float = 0.05, every: int = 200, seed: int = 0) -> dict[str, sp.Expr]:
    """Every monomial up to `degree`, starting from `start`'s distilled coefficients, trained on the
    counts (with the encoder and readout); every `every` steps a term whose RMS contribution along the
    batch's latent trajectories is under `threshold` x its equation's RMS is removed for good. A
    non-finite loss rolls back to the state after the last removal with half the learning rate; after
    three rollbacks a `FitError` names the step."""
    names = tuple(start.states)
    field = PolynomialField(names, degree, start)
    z = model.transform(data).reshape(-1, len(names))
    field.rescale(torch.tensor(alignment.apply(z), dtype=torch.float32),
                  torch.tensor(alignment.velocity(model.field(z)), dtype=torch.float32))
    net = AlignedAutoencoder(model.model_, alignment, field)
    counts = torch.as_tensor(data.counts, dtype=torch.float32)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    with torch_settings(model.threads, torch.float32):
        _train(net, field, counts, data, model, generator, learning_rate, iterations, threshold, every)
    return field.equations()


def _train(net, field, counts, data, model, generator, learning_rate, iterations, threshold, every) -> None:
    """Adam on the Poisson likelihood, with sequential thresholding and rollback on divergence."""
    names = field.names
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    good, rollbacks = copy.deepcopy(net.state_dict()), 0
    for step in range(1, iterations + 1):
        x, loss = batch_loss(net, counts, model.batch_size, generator, data.dt, model.substeps)
        if not torch.isfinite(loss):  # a polynomial field can blow up in a window: back to the last good state
            rollbacks += 1
            if rollbacks > 3:
                raise FitError(f"refitting the latent equations diverged at step {step} after 3 rollbacks; lower "
                               f"learning_rate (now {learning_rate}) or raise the LatentODE's substeps.")
            net.load_state_dict(good)
            for group in optimiser.param_groups:
                group["lr"] /= 2
            continue
        descend(optimiser, net, loss)
        if step % every == 0 and step < iterations:
            with torch.no_grad():
                theta = field.library(x.reshape(-1, len(names)))
                share = (theta[:, :, None] * (field.coef * field.mask)[None]).pow(2).mean(0).sqrt()
                total = field(x.reshape(-1, len(names))).pow(2).mean(0).sqrt()
                field.mask *= (share >= threshold * total[None]).float()
            good = copy.deepcopy(net.state_dict())
