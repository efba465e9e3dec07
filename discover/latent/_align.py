"""Latent states are identifiable only up to an affine map: put them in a frame before reading them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import DataError


@dataclass(frozen=True)
class Alignment:
    """The affine map `x = z @ matrix + offset` from inferred latents `z` to a frame `x`, and how well
    it explains the reference in that frame (`r2`, per coordinate; NaN for a canonical frame)."""

    matrix: np.ndarray
    offset: np.ndarray
    r2: np.ndarray

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Latent states in the frame."""
        return np.asarray(z) @ self.matrix + self.offset

    def velocity(self, dz: np.ndarray) -> np.ndarray:
        """A time derivative in the frame (the offset drops out)."""
        return np.asarray(dz) @ self.matrix

    def readout(self, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A linear readout `z @ weight.T + bias` of the latents as one of the frame's states:
        z = (x - offset) M^-1 gives weight M^-T and bias - offset M^-1 weight.T (M square)."""
        inverse = np.linalg.inv(self.matrix)
        return (inverse @ np.asarray(weight).T).T, np.asarray(bias) - self.offset @ inverse @ np.asarray(weight).T


def _flat(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim < 2 or not np.all(np.isfinite(a)):
        raise DataError(f"`{name}` must be finite latent states shaped (..., n_latents), got shape {a.shape}.")
    return a.reshape(-1, a.shape[-1])


def affine_align(inferred: np.ndarray, reference: np.ndarray) -> Alignment:
    """The least-squares affine map from `inferred` latents to `reference` ones (e.g. the true
    latents of a synthetic benchmark), with the R² of each reference coordinate."""
    z, x = _flat(inferred, "inferred"), _flat(reference, "reference")
    if len(z) != len(x):
        raise DataError(f"`inferred` has {len(z)} samples and `reference` {len(x)}; pass the same trials and bins.")
    design = np.column_stack([z, np.ones(len(z))])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    residual = x - design @ coef
    r2 = 1.0 - (residual**2).sum(0) / ((x - x.mean(0)) ** 2).sum(0)
    return Alignment(coef[:-1], coef[-1], r2)


def canonical_frame(inferred: np.ndarray) -> Alignment:
    """Without a reference: principal axes, zero mean, unit variance along each (signs fixed so each
    axis's largest loading is positive), so two fits of the same data land in comparable frames."""
    z = _flat(inferred, "inferred")
    mean = z.mean(0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    matrix = vt.T / (s / np.sqrt(len(z)))
    return Alignment(matrix, -mean @ matrix, np.full(z.shape[1], np.nan))
