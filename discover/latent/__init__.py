"""Latent dynamics from population recordings: a neural-ODE sequential autoencoder (Sedler, Versteeg
& Pandarinath 2023) fitted to spike counts, its latents aligned to a frame, its field distilled."""

from ._align import Alignment as Alignment, affine_align as affine_align, canonical_frame as canonical_frame
from ._data import (
    Population as Population,
    fitzhugh_nagumo_population as fitzhugh_nagumo_population,
    lorenz as lorenz,
    lorenz_population as lorenz_population,
    population_from_system as population_from_system,
)
from ._distill import distill_latent_field as distill_latent_field, rate_r2 as rate_r2
from ._fit import LatentODE as LatentODE
from ._model import SequentialAutoencoder as SequentialAutoencoder
from ._refit import refit_latent_equations as refit_latent_equations
from ._results import write_latent_results as write_latent_results

__all__ = [
    "Alignment", "LatentODE", "Population", "SequentialAutoencoder", "affine_align", "canonical_frame",
    "distill_latent_field", "fitzhugh_nagumo_population", "lorenz", "lorenz_population",
    "population_from_system", "rate_r2", "refit_latent_equations", "write_latent_results",
]
