"""The sequential autoencoder: a GRU encoder infers each trial's initial latent state, a neural ODE
(plus an optional known part) carries it through the trial, a linear-exponential readout gives rates."""

from __future__ import annotations

import torch
from torch import nn

from ..equations import EquationSystem, TorchRHS


class SequentialAutoencoder(nn.Module):
    """counts -> z0 (bidirectional GRU) -> z(t) (RK4 through dz/dt = known(z) + MLP(z)) -> log rates.

    The initial state is deterministic (the encoder's output, no sampling): a variational initial
    state mostly regularises trial-to-trial noise that a deterministic one with enough trials
    handles, and keeps the likelihood exact and the training reproducible.
    """

    def __init__(self, n_neurons: int, latent_dim: int, hidden: int, known: EquationSystem | None = None) -> None:
        super().__init__()
        self.encoder = nn.GRU(n_neurons, hidden, batch_first=True, bidirectional=True)
        self.initial = nn.Linear(2 * hidden, latent_dim)
        self.field_net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                       nn.Linear(hidden, latent_dim))
        self.readout = nn.Linear(latent_dim, n_neurons)
        # a known part is written in the latent states' names, every one of them carrying a residual,
        # which starts near zero so training begins from the known dynamics
        self.known = None if known is None else TorchRHS(known)
        if known is not None:
            nn.init.normal_(self.field_net[-1].weight, std=1e-3)
            nn.init.zeros_(self.field_net[-1].bias)

    def field(self, z: torch.Tensor) -> torch.Tensor:
        """dz/dt at latent states `z` `(..., latent_dim)`."""
        residual = self.field_net(z)
        if self.known is None:
            return residual
        flat = z.reshape(-1, z.shape[-1])
        none = flat.new_zeros(flat.shape[0], 0)
        return self.known(flat, none, residual.reshape(flat.shape)).reshape(z.shape)

    def encode(self, counts: torch.Tensor) -> torch.Tensor:
        _, last = self.encoder(torch.log1p(counts))
        return self.initial(torch.cat([last[0], last[1]], dim=-1))

    def integrate(self, z0: torch.Tensor, n_bins: int, dt: float, substeps: int) -> torch.Tensor:
        """Latent trajectories `(trials, n_bins, latent_dim)` by fixed-step RK4, `substeps` per bin."""
        h, z, out = dt / substeps, z0, [z0]
        for _ in range(n_bins - 1):
            for _ in range(substeps):
                k1 = self.field(z)
                k2 = self.field(z + h / 2 * k1)
                k3 = self.field(z + h / 2 * k2)
                z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + self.field(z + h * k3))
            out.append(z)
        return torch.stack(out, dim=1)

    def forward(self, counts: torch.Tensor, dt: float, substeps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(latent trajectories, log expected counts per bin)."""
        z = self.integrate(self.encode(counts), counts.shape[1], dt, substeps)
        return z, self.readout(z)
