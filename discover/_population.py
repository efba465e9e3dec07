"""Population runs from a config: spike counts -> latent ODE -> aligned frame -> distilled field -> results folder.

`discover run` takes this path when a config has a [population] section (see `_schema.POPULATION`);
the Python API it drives is `discover.latent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ConfigError, check_keys, check_keywords, did_you_mean
from ._schema import LATENT_EXCLUDED, POPULATION
from .distill import SparseDistiller
from .latent import (
    LatentODE,
    Population,
    affine_align,
    canonical_frame,
    distill_latent_field,
    fitzhugh_nagumo_population,
    lorenz_population,
    write_latent_results,
)

EXAMPLES: dict[str, Callable[..., Population]] = {"lorenz": lorenz_population,
                                                  "fitzhugh_nagumo": fitzhugh_nagumo_population}
ALIGN = ("auto", "truth", "canonical")
# sections of a trajectory run that a population run has no use for
NOT_HERE = ("data", "model", "residual", "cell", "training")
# defaults from the schema, which also writes them into the configuration reference
DEFAULTS = {k.name: k.default for k in POPULATION.keys if k.name in ("n_neurons", "n_trials", "n_bins", "seed",
                                                                      "heldout", "align")}


@dataclass(frozen=True)
class PopulationConfig:
    """A population run: where the counts come from ([population]), how the latent model is fitted
    ([latent]: `LatentODE` keywords), how its field is distilled ([distill.sparse]), where results go."""

    population: Mapping[str, Any]
    latent: Mapping[str, Any] = field(default_factory=dict)
    sparse: Mapping[str, Any] = field(default_factory=dict)
    output: str = "results"
    base_dir: Path = Path(".")

    def load_data(self) -> tuple[Population, Population]:
        """`(training, held-out)` trials: the last `heldout` fraction is held out."""
        p = self.population
        if "example" in p:
            data = EXAMPLES[p["example"]](**{k: p.get(k, DEFAULTS[k]) for k in ("n_neurons", "n_trials", "n_bins",
                                                                                 "seed")})
        else:
            data = Population.load_npz(self.base_dir / p["path"])
        heldout = p.get("heldout", DEFAULTS["heldout"])
        n_held = int(round(data.n_trials * float(heldout)))
        if not 1 <= n_held < data.n_trials:
            raise ConfigError(f"[population] heldout = {heldout} of {data.n_trials} trials holds out "
                              f"{n_held}; hold out at least one trial and keep at least one, or give more trials.")
        cut = data.n_trials - n_held
        return data.select(slice(0, cut)), data.select(slice(cut, None))

    @property
    def latent_dim(self) -> int:
        return int(self.latent.get("latent_dim", LatentODE().latent_dim))

    def to_truth(self, train: Population) -> bool:
        """Whether the frame is the data's true latents (checked before training, not after)."""
        truth = train.latents is not None and train.latents.shape[-1] == self.latent_dim
        if self.population.get("align", DEFAULTS["align"]) == "truth" and not truth:
            found = "none" if train.latents is None else f"{train.latents.shape[-1]} states"
            raise ConfigError(f"[population] align = \"truth\" needs `latents` in the data with as many states as "
                              f"[latent] latent_dim ({self.latent_dim}), found {found}; use align = \"canonical\".")
        return truth and self.population.get("align", DEFAULTS["align"]) != "canonical"

    def frame(self, model: LatentODE, train: Population):
        """(alignment, state names): onto the data's true latents or the canonical frame, as `align` says."""
        z = model.transform(train)
        if self.to_truth(train) and train.latents is not None:  # to_truth: the data have latents
            alignment, default = affine_align(z, train.latents), train.latent_names
        else:
            alignment, default = canonical_frame(z), ()
        names = tuple(self.population.get("names") or default or (f"z{k + 1}" for k in range(z.shape[-1])))
        return alignment, names


def population_config(raw: Mapping[str, Any], base_dir: str | Path) -> PopulationConfig:
    """Check a config with [population] and build its `PopulationConfig`."""
    extra = [s for s in NOT_HERE if s in raw]
    if extra:
        raise ConfigError(f"[population] runs fit latent dynamics to spike counts; remove [{extra[0]}] (a trajectory "
                          "run's section), or remove [population]. The latent model is set in [latent].")
    p = dict(raw["population"])
    check_keys("[population]", p, POPULATION.names())
    if ("example" in p) == ("path" in p):
        raise ConfigError("[population] needs exactly one of `example` (simulated counts) or `path` (an .npz of "
                          "counts and dt).")
    if "example" in p and p["example"] not in EXAMPLES:
        raise ConfigError(f"[population] example = {p['example']!r} is not one of {list(EXAMPLES)}."
                          f"{did_you_mean(p['example'], EXAMPLES)}")
    if "path" in p and set(p) & set(POPULATION.names("example")):
        raise ConfigError(f"[population] {sorted(set(p) & set(POPULATION.names('example')))} set simulated counts; "
                          "they do nothing with `path`. Remove them.")
    heldout = p.get("heldout", DEFAULTS["heldout"])
    if isinstance(heldout, bool) or not isinstance(heldout, (int, float)) or not 0 < heldout <= 0.5:
        raise ConfigError(f"[population] heldout = {heldout!r}: give the fraction of trials to hold out, in (0, 0.5].")
    if p.get("align", DEFAULTS["align"]) not in ALIGN:
        raise ConfigError(f"[population] align = {p['align']!r} is not one of {list(ALIGN)}."
                          f"{did_you_mean(p['align'], ALIGN)}")
    names = p.get("names", [])
    if not (isinstance(names, list) and all(isinstance(n, str) and n.isidentifier() for n in names)):
        raise ConfigError(f"[population] names = {names!r}: give the latent states' names, e.g. [\"x\", \"y\", \"z\"].")
    latent = check_keywords("[latent]", raw.get("latent", {}), LatentODE, exclude=LATENT_EXCLUDED)
    distill = dict(raw.get("distill", {}))
    check_keys("[distill] of a population run", distill, ("sparse",))
    sparse = check_keywords("[distill.sparse]", distill.get("sparse", {}), SparseDistiller)
    output = dict(raw.get("output", {})).get("directory", "results")
    config = PopulationConfig(p, latent, sparse, output, Path(base_dir))
    if names and len(names) != config.latent_dim:
        raise ConfigError(f"[population] names = {names} names {len(names)} states; the model has "
                          f"{config.latent_dim} ([latent] latent_dim).")
    return config


def run_population(config: PopulationConfig, out_dir: Path, *, force: bool = False, progress: bool = True,
                   say: Callable[..., None] = print) -> Path:
    """Fit, align, distil and write the results folder; returns it."""
    train, heldout = config.load_data()
    say(f"Data: {train.n_trials} training and {heldout.n_trials} held-out trials, {train.counts.shape[1]} bins of "
        f"{train.dt:g}, {train.n_neurons} neurons.")
    config.to_truth(train)  # a frame the data cannot give is refused before minutes of training
    model = LatentODE(progress=progress, **config.latent).fit(train)
    alignment, names = config.frame(model, train)
    if not np.all(np.isnan(alignment.r2)):
        say("Aligned to the data's latents, R² per state: " + ", ".join(f"{n} {r:.3f}" for n, r in
                                                                     zip(names, alignment.r2, strict=True)))
    system, distillers = distill_latent_field(model, train, alignment, names, config.sparse)
    return write_latent_results(out_dir, model, heldout, alignment, system, distillers, force=force)
