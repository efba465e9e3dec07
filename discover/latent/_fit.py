"""`LatentODE`: fit the sequential autoencoder to spike counts by Poisson likelihood (scikit-learn style)."""

from __future__ import annotations

import time

import numpy as np
import torch
from tqdm.auto import tqdm

from .._errors import DataError, FitError
from ..equations import EquationSystem
from ..integrate import resolve_device, torch_settings
from ._data import Population
from ._model import SequentialAutoencoder, batch_loss, descend


class LatentODE:
    """Latent dynamics from population spike counts: a neural-ODE sequential autoencoder.

    Each trial's initial latent state is inferred by a bidirectional GRU over its counts; the state
    is carried through the trial by `dz/dt = known(z) + MLP(z)` (fixed-step RK4), and each neuron's
    expected count per bin is `exp(C z + d)`. Everything is trained together by the Poisson negative
    log-likelihood of the counts, with Adam (cosine-decayed learning rate, gradients clipped).
    Latents are identifiable only up to an affine map: align them (`affine_align`,
    `canonical_frame`) before reading or distilling the field.

    **Arguments:** `latent_dim` (ignored when `known` is given: its states are the latents);
    `known` (an `EquationSystem` of the latent states; each gets a residual); `hidden` (GRU and
    MLP width); `iterations`, `learning_rate`, `batch_size` (trials per step); `substeps` (RK4
    steps per bin); `seed`; `threads` (torch threads); `device` ("cpu", the default; "cuda"; "auto",
    the GPU when torch sees one: training runs there, the fitted model comes back to the CPU); `progress`.

    **Learned attributes:** `model_` (a `SequentialAutoencoder`), `loss_history_`, `fit_seconds_`.
    """

    def __init__(self, latent_dim: int = 3, *, known: EquationSystem | None = None, hidden: int = 64,
                 iterations: int = 2000, learning_rate: float = 1e-2, batch_size: int = 64, substeps: int = 1,
                 seed: int = 0, threads: int = 1, progress: bool = True, device: str = "cpu") -> None:
        self.latent_dim, self.known, self.hidden = latent_dim, known, hidden
        self.iterations, self.learning_rate, self.batch_size = iterations, learning_rate, batch_size
        self.substeps, self.seed, self.threads, self.progress = substeps, seed, threads, progress
        self.device = device

    def _check(self, data: Population) -> None:
        if not isinstance(data, Population):
            raise DataError(f"`data` must be a discover.latent.Population, got {type(data).__name__}; "
                            "wrap your counts with Population(counts, dt).")
        for name in ("latent_dim", "hidden", "iterations", "batch_size", "substeps", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "iterations" else 1):
                raise FitError(f"LatentODE `{name}` must be a whole number >= 1, got {value!r}.")
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise FitError(f"LatentODE `learning_rate` must be in (0, 1), got {self.learning_rate!r}; "
                           "1e-2 is the default.")
        if self.known is not None and (not isinstance(self.known, EquationSystem) or self.known.inputs):
            raise FitError("LatentODE `known` must be an EquationSystem of the latent states alone (no inputs).")
        if hasattr(self, "model_") and self.model_.readout.out_features != data.n_neurons:
            raise DataError(f"the model was fitted on {self.model_.readout.out_features} neurons, "
                            f"these data have {data.n_neurons}.")

    def fit(self, data: Population) -> LatentODE:
        self._check(data)
        device = resolve_device(self.device, "LatentODE")
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        known = None
        if self.known is not None:
            known = self.known
            for state in self.known.states:
                known = known.with_residual(state, self.known.states)
        dim = len(self.known.states) if self.known is not None else self.latent_dim
        history, start = [], time.perf_counter()
        with torch_settings(self.threads, torch.float32):
            model = SequentialAutoencoder(data.n_neurons, dim, self.hidden, known).to(device)
            counts = torch.as_tensor(data.counts, dtype=torch.float32, device=device)
            with torch.no_grad():  # start at each neuron's mean rate, not at 1 count per bin
                model.readout.bias.copy_(torch.log(counts.mean((0, 1)) + 1e-3))
            optimiser = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(self.iterations, 1))
            for step in tqdm(range(self.iterations), disable=not self.progress, desc="latent ODE"):
                _, loss = batch_loss(model, counts, self.batch_size, generator, data.dt, self.substeps)
                if not torch.isfinite(loss):
                    raise FitError(f"the latent ODE's loss became {loss.item()} at step {step}; lower "
                                   f"learning_rate (now {self.learning_rate}) or raise substeps.")
                descend(optimiser, model, loss)
                schedule.step()
                history.append(loss.item())
        self.model_, self.loss_history_ = model.cpu().eval(), np.array(history)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _run(self, data: Population) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "model_"):
            raise FitError("this LatentODE is not fitted yet; call fit(population) first.")
        self._check(data)
        with torch.no_grad():
            z, log_rates = self.model_(torch.as_tensor(data.counts, dtype=torch.float32), data.dt, self.substeps)
        return z.numpy().astype(float), np.exp(log_rates.numpy().astype(float))

    def transform(self, data: Population) -> np.ndarray:
        """Inferred latent trajectories `(n_trials, n_bins, latent_dim)`."""
        return self._run(data)[0]

    def predict_rates(self, data: Population) -> np.ndarray:
        """Expected counts per bin `(n_trials, n_bins, n_neurons)`."""
        return self._run(data)[1]

    def field(self, z: np.ndarray) -> np.ndarray:
        """The learned dz/dt at latent states `z` `(..., latent_dim)`."""
        with torch.no_grad():
            return self.model_.field(torch.as_tensor(z, dtype=torch.float32)).numpy().astype(float)
