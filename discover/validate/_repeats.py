"""Spike-time prediction against repeated recordings of one frozen stimulus: the standard protocol.

A cell driven by the same noise current several times fires a little differently each time; a
model can at best be as close to each repeat as the repeats are to each other. So the
coincidence factor Γ of the model with each repeat (Kistler et al. 1997, ±4 ms) is read beside
the cell's intrinsic reliability, the mean Γ between distinct repeats, and their ratio (Jolivet
et al. 2008), and Md* (Naud et al. 2011) compares the model's and the cell's peri-stimulus
spike densities against the repeats' own self-similarity, estimated without bias.

Conventions (the same as `spike_metrics`): a pair of trains where neither spikes says nothing
about spike timing and is left out of every mean; a model that spikes where a repeat does not,
or the reverse, scores Γ = 0; a model firing too fast for Γ to be defined scores 0 (chance).
Spike times in ms from the stimulus onset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, permutations

import numpy as np

from .._errors import DataError
from ._metrics import sweep_gamma


@dataclass(frozen=True)
class RepeatScore:
    """How a model's spike trains match a cell's repeats of one stimulus.

    - `gamma`: the model's coincidence factor with each recorded repeat (mean over the model's
      runs; NaN for a repeat where neither the repeat nor any run spikes).
    - `intrinsic`: the cell's reliability, the mean Γ between distinct repeats (both orders).
    - `ratio`: mean of `gamma` over `intrinsic` (1 = as close to the cell as it is to itself).
    - `md_star`: Md* at `md_window` (for a deterministic model, from its one run; see `md_star`).
    - `count_error`: the model's mean spike count relative to the repeats' mean, minus 1 (signed:
      -1 for a silent model, +1 for one firing twice as often).
    - `window` and `md_window`: the coincidence half-windows, ms.
    """

    gamma: tuple[float, ...]
    intrinsic: float
    ratio: float
    md_star: float
    count_error: float
    window: float
    md_window: float

    def as_dict(self) -> dict[str, float | list[float]]:
        return {"gamma_per_repeat": list(self.gamma), "gamma_intrinsic": self.intrinsic, "gamma_ratio": self.ratio,
                "md_star": self.md_star, "spike_count_error": self.count_error, "window_ms": self.window,
                "md_window_ms": self.md_window}


def _trains(trains: Sequence, name: str) -> list[np.ndarray]:
    out = []
    for k, s in enumerate(trains):
        s = np.sort(np.asarray(s, dtype=float).ravel())
        if not np.all(np.isfinite(s)):
            raise DataError(f"{name}[{k}] holds a spike time that is not finite; give spike times in ms.")
        out.append(s)
    return out


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < np.inf:
        raise DataError(f"`{name}` must be a positive time in ms, got {value!r}.")
    return float(value)


def _mean(values) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def intrinsic_reliability(repeats: Sequence[np.ndarray], duration: float, window: float = 4.0) -> float:
    """Mean Γ between every ordered pair of distinct repeats (Γ is not symmetric: its chance
    correction uses the second train's rate), leaving out pairs where neither spikes; NaN when
    no repeat spikes. Spike times and `duration` in ms."""
    repeats = _trains(repeats, "repeats")
    if len(repeats) < 2:
        raise DataError(f"intrinsic reliability needs at least 2 repeats of one stimulus, got {len(repeats)}; "
                        "record (or select) several sweeps of the same frozen current.")
    duration, window = _positive(duration, "duration"), _positive(window, "window")
    return _mean(sweep_gamma(a, b, duration, window) for a, b in permutations(repeats, 2))


def _bins(trains: list[np.ndarray], duration: float, dt: float) -> list[np.ndarray]:
    """Each train's spikes as sorted bin indices of width `dt`; spikes outside [0, duration) dropped."""
    n = int(round(duration / dt))
    return [np.floor(s[(s >= 0) & (s < duration)] / dt).astype(int).clip(0, n - 1) for s in trains]


def _product(a: np.ndarray, b: np.ndarray, half: int) -> float:
    """Kistler dot product of two binned trains: the number of spike pairs at most `half` bins apart."""
    if not a.size or not b.size:
        return 0.0
    b = np.sort(b)
    return float(np.sum(np.searchsorted(b, a + half, "right") - np.searchsorted(b, a - half, "left")))


def _self_product(trains: list[np.ndarray], half: int) -> float:
    """<S, S>* of the mean train, unbiased: the mean of <S_i, S_j> over distinct pairs, i.e. the
    product of the summed train with itself less each train's product with itself (which counts
    every one of its spikes as a coincidence), over k (k - 1). One train: its own product, which
    is what the unbiased estimate gives for any number of identical copies (a deterministic model)."""
    k = len(trains)
    if k == 1:
        return _product(trains[0], trains[0], half)
    every = np.concatenate(trains)
    return (_product(every, every, half) - sum(_product(s, s, half) for s in trains)) / (k * (k - 1))


def md_star(repeats: Sequence[np.ndarray], runs: Sequence[np.ndarray], duration: float, dt: float,
            window: float = 8.0) -> float:
    """Md* (Naud et al. 2011) with the Kistler window (coincidences within ±`window` ms):

        Md* = 2 <D, M> / (<D, D>* + <M, M>*)

    D and M are the mean spike trains (binned at `dt`) of the recorded repeats and of the model's
    runs, and <., .>* the unbiased self-products, averaged over distinct pairs of trains. 1 when
    the model's spike density is the cell's; about 0 for a model unrelated to the stimulus.

    A deterministic model has one run: its <M, M>* is that train's product with itself, which is
    exactly the unbiased estimate for any number of identical runs, so Md* is defined (and 1 when
    every repeat is that train). A stochastic model is scored with many runs (GIF fitting,
    Pozzorini et al. 2015, uses 500 and ±8 ms, the default here). Spike times, `duration`, `dt`
    and `window` in ms; NaN when neither the repeats nor the model spike."""
    repeats, runs = _trains(repeats, "repeats"), _trains(runs, "runs")
    if len(repeats) < 2 or len(runs) < 1:
        raise DataError(f"Md* needs at least 2 recorded repeats and 1 model run, got {len(repeats)} and {len(runs)}.")
    duration, dt, window = _positive(duration, "duration"), _positive(dt, "dt"), _positive(window, "window")
    half = int(round(window / dt))
    d, m = _bins(repeats, duration, dt), _bins(runs, duration, dt)
    dm = _product(np.concatenate(d), np.concatenate(m), half) / (len(d) * len(m))
    denominator = _self_product(d, half) + _self_product(m, half)
    return 2.0 * dm / denominator if denominator > 0 else float("nan")


def score_repeats(repeats: Sequence[np.ndarray], runs: Sequence[np.ndarray], duration: float, dt: float, *,
                  window: float = 4.0, md_window: float = 8.0) -> RepeatScore:
    """Score model spike trains `runs` (one for a deterministic model, many for a stochastic one)
    against recorded `repeats` of the same stimulus; spike times, `duration` and `dt` (the
    binning of Md*) in ms. A run that never fires scores Γ = 0 against a repeat that does; a model
    that fires far too often scores near or below 0 (Γ subtracts chance coincidences)."""
    repeats, runs = _trains(repeats, "repeats"), _trains(runs, "runs")
    if not runs:
        raise DataError("no model runs to score; give at least one spike train (a list of spike times).")
    intrinsic = intrinsic_reliability(repeats, duration, window)
    gamma = tuple(_mean(sweep_gamma(r, s, duration, window) for s in runs) for r in repeats)
    counts = np.mean([len(r) for r in repeats])
    count_error = float(np.mean([len(s) for s in runs]) / counts - 1) if counts else float("nan")
    md = md_star(repeats, runs, duration, dt, md_window)
    scored = _mean(gamma)
    ratio = float(scored / intrinsic) if intrinsic > 0 and not np.isnan(scored) else float("nan")
    return RepeatScore(gamma, intrinsic, ratio, md, count_error, float(window), float(md_window))


def repeats_of_one_stimulus(currents: np.ndarray | Sequence[np.ndarray], *, min_correlation: float = 0.99,
                            tolerance: float = 0.1) -> bool:
    """Whether sweeps' injected currents are repeats of one frozen stimulus: at least 2 sweeps, of
    lengths within 1 % (finite samples, so NaN padding does not count), and every pair correlated
    above `min_correlation` over their common samples with s.d. and means that agree within
    `tolerance` of the s.d. The correlation alone is blind to scale and offset: steps of 100 and
    200 pA at the same times correlate perfectly (the shared BluePyEfe step sweeps: 0.995-0.999).
    Flat currents (s.d. 0) are repeats when their means agree within `tolerance` of their size."""
    sweeps = [np.asarray(c, dtype=float).ravel() for c in currents]
    sweeps = [c[np.isfinite(c)] for c in sweeps]
    lengths = [c.size for c in sweeps]
    if len(sweeps) < 2 or min(lengths) < 3 or min(lengths) < 0.99 * max(lengths):
        return False
    common = min(lengths)
    for a, b in combinations([c[:common] for c in sweeps], 2):
        sa, sb = a.std(), b.std()
        scale = max(sa, sb)
        if scale <= 1e-12 * max(1.0, abs(a.mean()), abs(b.mean())):
            if abs(a.mean() - b.mean()) > tolerance * max(abs(a.mean()), abs(b.mean()), 1e-12):
                return False
            continue
        if min(sa, sb) < (1 - tolerance) * scale or abs(a.mean() - b.mean()) > tolerance * scale:
            return False
        if not np.corrcoef(a, b)[0, 1] > min_correlation:
            return False
    return True
