"""Which deterministic reading of a fitted escape-noise model the exports carry.

An escape-noise GIF is stochastic; a simulator wants one spike train. Two readings:
- **crossing**: V reaches the threshold moved by `offset`, the shift that makes the model fire as
  often as the cell on the training sweeps (`calibrate_offset`);
- **median**: H, the escape rate integrated since the last spike, reaches ln 2: where half of the
  model's stochastic runs from that state would have spiked (nothing tuned).
On a cell whose spikes follow fast upstrokes they agree; where the voltage lingers near the
threshold the crossing fires at the first touch and the median later, where the noise-driven cell
does. Which places the spikes better differs between cells (the five shared ones:
benchmarks/RESULTS_cells.md), so it is chosen on the training sweeps: the median only where it
places their spikes better beyond chance, the lower end of a block bootstrap of the difference in
Gamma above 0 (a Gamma that differs by a few spikes between readings is a coin toss, and the
crossing, which fires as often as the cell, is the safer default).
"""

from __future__ import annotations

import numpy as np

from ..validate import gamma_from_counts, matched_spikes
from ._gif import CellFit, Recorded
from ._simulate import simulate_rows

WINDOW = 4.0
"""ms: the coincidence window of Gamma."""
BLOCK = 500.0
"""ms: the blocks the bootstrap resamples (spike trains are correlated within a few ISIs, not across)."""
RESAMPLES, LEVEL = 1000, 0.05
"""Bootstrap resamples, and the one-sided level at which the median must win."""


def choose_reading(fit: CellFit, rec: Recorded, offset: float, seed: int = 0) -> tuple[bool, str]:
    """(whether the exports read the escape noise's median, why, with the training Gamma of both)."""
    counts = _block_counts(fit, rec, offset)
    gamma = {median: _gamma(c.sum(axis=0)) for median, c in counts.items()}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, counts[False].shape[0], size=(RESAMPLES, counts[False].shape[0]))
    differences = np.array([_gamma(counts[True][p].sum(axis=0)) - _gamma(counts[False][p].sum(axis=0))
                            for p in picks])
    low = float(np.nanquantile(differences, LEVEL)) if np.isfinite(differences).any() else float("nan")
    median = bool(low > 0)
    crossing = f"V crossing VT {offset:+.3g} mV (as many spikes as the cell)"
    noise = "the escape noise median (H >= ln 2)"
    chosen, other = (noise, crossing) if median else (crossing, noise)
    return median, (f"deterministic reading: {chosen}; training Gamma {gamma[median]:.3f}, {other} "
                    f"{gamma[not median]:.3f} (median minus crossing: 5th percentile of {RESAMPLES} block "
                    f"resamples {low:+.3f}; the median is read only where that is above 0)")


def _block_counts(fit: CellFit, rec: Recorded, offset: float) -> dict[bool, np.ndarray]:
    """Per reading (median or not), per block of every training sweep: (coincidences, recorded
    spikes, model spikes, duration ms), each recorded spike matched to at most one model spike within
    WINDOW, as `coincidence_factor`. Both readings run as two rows of one pass (a gated model's
    stepping costs the same for two rows as for one)."""
    rows: dict[bool, list[tuple[float, float, float, float]]] = {False: [], True: []}
    for v, i, onsets in zip(rec.v, rec.i, rec.onsets, strict=True):
        trains, _ = simulate_rows(fit, i[None], rec.dt, np.full(2, v[0]), np.array([offset, 0.0]),
                                  which=np.zeros(2, dtype=int), median=np.array([False, True]))
        data = np.asarray(onsets) * rec.dt
        duration = v.size * rec.dt
        edges = np.append(np.arange(0.0, duration, BLOCK), duration)
        for median, model in zip((False, True), trains, strict=True):
            hit = matched_spikes(data, model, WINDOW)
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                inside = (data >= a) & (data < b)
                rows[median].append((hit[inside].sum(), inside.sum(), ((model >= a) & (model < b)).sum(), b - a))
    return {median: np.array(r, dtype=float) for median, r in rows.items()}


def _gamma(total: np.ndarray) -> float:
    """Gamma of pooled counts (coincidences, recorded, model, duration)."""
    coincidences, n_data, n_model, duration = total
    return gamma_from_counts(coincidences, n_data, n_model, duration, WINDOW)
