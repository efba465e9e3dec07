"""The `distill` options: one frozen, checked value, built once where a run starts and passed down.

Its defaults are the schema's (`discover._schema.DISTILL`), the same values the configuration
reference shows, so the code that runs and the docs that describe it cannot disagree. A field
the schema leaves without a default is None here: `round`, decided by the model (`rounding`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from .._errors import ConfigError, FitError, check_keywords, did_you_mean
from .._schema import _MISSING, DISTILL
from ._library import check_library
from ._propose import DISTILLERS

OPTIONS = DISTILL.names()  # the schema documents each one (docs: configuration reference)
ROUTES = ("auto", "ude", "direct")
_DEFAULTS = {key.name: key.default for key in DISTILL.keys}


def _default(name: str) -> Any:
    """The schema's default of option `name`; None where it has none (decided when the model is known)."""
    value = _DEFAULTS[name]
    return None if value is _MISSING else value


@dataclass(frozen=True)
class DistillOptions:
    """How residuals are distilled and a candidate chosen: the `distill` argument of `discover` and the
    `[distill]` table of a config, one field per key (the configuration reference describes each).

    Every value is checked on construction, so a typo fails before any training; `from_mapping`
    also refuses unknown names. `round` None (the default) rounds for models without a spike rule only.
    """

    route: str = _default("route")
    backends: tuple[str, ...] = tuple(_default("backends"))
    sparse: Mapping[str, Any] = field(default_factory=lambda: dict(_default("sparse")))
    symbolic: Mapping[str, Any] = field(default_factory=lambda: dict(_default("symbolic")))
    choose_by: str = _default("choose_by")
    tolerance: float = _default("tolerance")
    floor: float = _default("floor")
    joint: bool = _default("joint")
    refit: bool = _default("refit")
    refit_candidates: int = _default("refit_candidates")
    prune: bool = _default("prune")
    round: bool | None = _default("round")
    selection: float = _default("selection")
    seed: int = _default("seed")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | DistillOptions) -> DistillOptions:
        """`options` (names as in the `[distill]` table) checked, as a `DistillOptions`; one already is
        comes back as it is (checked when it was made)."""
        if isinstance(options, DistillOptions):
            return options
        for key in options:
            if key not in OPTIONS:
                raise ConfigError(f"unknown distill option {key!r}; allowed: {', '.join(OPTIONS)}."
                                  f"{did_you_mean(key, OPTIONS)}")
        return cls(**options)

    def rounding(self, spiking: bool) -> bool:
        """Whether coefficients are rounded: as set, else for models without a spike rule only (window
        errors on spike-free pieces cannot see what rounding does to spike times)."""
        return (not spiking) if self.round is None else self.round

    def __post_init__(self) -> None:
        # frozen: the checked, normalised values are set once here (a tuple of backends, plain tables)
        if self.route not in ROUTES:
            raise ConfigError(f"distill route {self.route!r} is not one of {list(ROUTES)}: \"ude\" distils a trained "
                              f"network, \"direct\" the data's smoothed derivatives, \"auto\" runs both and keeps the "
                              f"one that re-simulates held-out data better.{did_you_mean(str(self.route), ROUTES)}")
        for b in self.backends:
            if b not in DISTILLERS:
                raise ConfigError(f"distill backend {b!r} is not one of {list(DISTILLERS)}."
                                  f"{did_you_mean(b, DISTILLERS)}")
        object.__setattr__(self, "backends", tuple(self.backends))
        for name, cls in DISTILLERS.items():
            object.__setattr__(self, name, check_keywords(f"{name} distill", getattr(self, name), cls))
        if "library" in self.sparse:  # a typo here must not wait until training is over
            try:
                check_library(self.sparse["library"])
            except FitError as error:
                raise ConfigError(f"distill sparse {error}") from None
        self._check_counts()
        if self.choose_by not in ("resimulation", "residual"):
            raise ConfigError(f"distill choose_by must be 'resimulation' or 'residual', got {self.choose_by!r}.")
        for key in ("joint", "refit", "prune", "round"):  # "false" in a TOML string would read as true
            value = getattr(self, key)
            if not isinstance(value, bool) and not (key == "round" and value is None):
                raise ConfigError(f"distill {key} must be true or false, got {value!r}; write {key} = false "
                                  f"(no quotes) to turn it off.")
        for key in ("tolerance", "floor"):  # a string would fail only when the first choice is made, after training
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, Real):
                raise ConfigError(f"distill {key} must be a number, got {value!r}; {_default(key)} is the default.")
            object.__setattr__(self, key, float(value))
        if isinstance(self.seed, bool) or not isinstance(self.seed, Integral):
            raise ConfigError(f"distill seed must be a whole number, got {self.seed!r}; {_default('seed')} is the "
                              "default.")
        object.__setattr__(self, "seed", int(self.seed))

    def _check_counts(self) -> None:
        """`selection` and `refit_candidates`, as numbers of the right kind and range."""
        fraction = self.selection
        if not isinstance(fraction, (int, float)) or not 0 <= fraction < 0.5:
            raise ConfigError(
                f"distill selection must be a fraction in [0, 0.5) of each training trajectory held out to choose "
                f"candidates on, got {fraction!r}; {_default('selection')} is the default, 0 chooses on the training "
                f"windows."
            )
        top = self.refit_candidates
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ConfigError(
                f"distill refit_candidates must be a whole number >= 0 (how many of the best-scoring front candidates "
                f"are refit through the solver before the choice), got {top!r}; {_default('refit_candidates')} is the "
                f"default, 0 turns it off."
            )
        object.__setattr__(self, "selection", float(fraction))
        object.__setattr__(self, "refit_candidates", int(top))


def check_distill_options(options: Mapping[str, Any] | DistillOptions) -> DistillOptions:
    """Validate the `distill` options before any training starts: `DistillOptions.from_mapping`."""
    return DistillOptions.from_mapping(options)


__all__ = ["OPTIONS", "ROUTES", "DistillOptions", "check_distill_options"]
