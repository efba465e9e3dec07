"""The sequential autoencoder: a GRU encoder infers each trial's initial latent state, a neural ODE
(plus an optional known part) carries it through the trial, a linear-exponential readout gives rates.

The pieces both the network and the refit of distilled equations (`_refit.py`) train with live here:
the encoder, the RK4 integration, the Poisson loss on a batch and the gradient step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..equations import EquationSystem, TorchRHS
from ..integrate import rk4_step


class InitialStateEncoder(nn.Module):
    """Counts of a trial `(trials, bins, neurons)` -> its initial latent state, by a bidirectional GRU."""

    def __init__(self, n_neurons: int, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_neurons, hidden, batch_first=True, bidirectional=True)
        self.initial = nn.Linear(2 * hidden, latent_dim)

    def forward(self, counts: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(torch.log1p(counts))
        return self.initial(torch.cat([last[0], last[1]], dim=-1))


def integrate(field: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, n_bins: int, dt: float,
              substeps: int) -> torch.Tensor:
    """Latent trajectories `(trials, n_bins, latent_dim)` by fixed-step RK4, `substeps` per bin."""
    h, z, out, no_input = dt / substeps, z0, [z0], z0.new_zeros(0)
    autonomous = lambda z, _: field(z)  # noqa: E731 - the latent field has no inputs
    for _ in range(n_bins - 1):
        for _ in range(substeps):
            z = rk4_step(autonomous, z, no_input, no_input, no_input, h)
        out.append(z)
    return torch.stack(out, dim=1)


def batch_loss(net: nn.Module, counts: torch.Tensor, batch_size: int, generator: torch.Generator, dt: float,
               substeps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(latent trajectories, Poisson negative log-likelihood of the counts relative to a perfect fit)
    of a random batch of trials, drawn without replacement (every trial once when `batch_size` covers
    them all)."""
    batch = counts[torch.randperm(len(counts), generator=generator)[:batch_size]]
    z, log_rates = net(batch, dt, substeps)
    # minus the saturated model's likelihood (c - c log c per count c): half the Poisson deviance per
    # bin and neuron, 0 for a perfect fit and never negative, so losses compare across data sets
    return z, (torch.exp(log_rates) - batch * log_rates - batch + torch.xlogy(batch, batch)).mean()


def descend(optimiser: torch.optim.Optimizer, net: nn.Module, loss: torch.Tensor) -> None:
    """One gradient step, gradients clipped to norm 5."""
    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    optimiser.step()


class SequentialAutoencoder(nn.Module):
    """counts -> z0 (bidirectional GRU) -> z(t) (RK4 through dz/dt = known(z) + MLP(z)) -> log rates.

    The initial state is deterministic (the encoder's output, no sampling): a variational initial
    state mostly regularises trial-to-trial noise that a deterministic one with enough trials
    handles, and keeps the likelihood exact and the training reproducible.
    """

    def __init__(self, n_neurons: int, latent_dim: int, hidden: int, known: EquationSystem | None = None) -> None:
        super().__init__()
        self.encoder = InitialStateEncoder(n_neurons, latent_dim, hidden)
        self.field_net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                       nn.Linear(hidden, latent_dim))
        self.readout = nn.Linear(latent_dim, n_neurons)
        # a known part is written in the latent states' names, every one of them carrying a residual,
        # which starts near zero so training begins from the known dynamics
        self.known = None if known is None else TorchRHS(known)
        if known is not None:
            last = self.field_net[-1]
            assert isinstance(last, nn.Linear)
            nn.init.normal_(last.weight, std=1e-3)
            nn.init.zeros_(last.bias)

    def field(self, z: torch.Tensor) -> torch.Tensor:
        """dz/dt at latent states `z` `(..., latent_dim)`."""
        residual = self.field_net(z)
        if self.known is None:
            return residual
        flat = z.reshape(-1, z.shape[-1])
        none = flat.new_zeros(flat.shape[0], 0)
        return self.known(flat, none, residual.reshape(flat.shape)).reshape(z.shape)

    def forward(self, counts: torch.Tensor, dt: float, substeps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(latent trajectories, log expected counts per bin)."""
        z = integrate(self.field, self.encoder(counts), counts.shape[1], dt, substeps)
        return z, self.readout(z)
