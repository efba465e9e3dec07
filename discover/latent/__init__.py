"""Latent dynamics from population recordings: a neural-ODE sequential autoencoder (Sedler, Versteeg
& Pandarinath 2023) fitted to spike counts, its latents aligned to a frame, its field distilled."""

from ._align import Alignment, affine_align, canonical_frame
from ._data import Population, fitzhugh_nagumo_population, lorenz, lorenz_population, population_from_system
from ._distill import distill_latent_field, rate_r2
from ._fit import LatentODE
from ._model import SequentialAutoencoder
from ._refit import refit_latent_equations
from ._results import write_latent_results

__all__ = [
    "Alignment", "LatentODE", "Population", "SequentialAutoencoder", "affine_align", "canonical_frame",
    "distill_latent_field", "fitzhugh_nagumo_population", "lorenz", "lorenz_population",
    "population_from_system", "rate_r2", "refit_latent_equations", "write_latent_results",
]
