"""Check the `distill` options before any training starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._errors import ConfigError, FitError, check_keywords, did_you_mean
from .._schema import DISTILL
from ._library import check_library
from ._propose import DISTILLERS

OPTIONS = DISTILL.names()  # the schema documents each one (docs: configuration reference)
ROUTES = ("auto", "ude", "direct")


def check_distill_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the `distill` options before any training starts."""
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(f"unknown distill option {key!r}; allowed: {', '.join(OPTIONS)}."
                              f"{did_you_mean(key, OPTIONS)}")
    route = options.get("route", "auto")
    if route not in ROUTES:
        raise ConfigError(f"distill route {route!r} is not one of {list(ROUTES)}: \"ude\" distils a trained network, "
                          f"\"direct\" the data's smoothed derivatives, \"auto\" runs both and keeps the one that "
                          f"re-simulates held-out data better.{did_you_mean(str(route), ROUTES)}")
    backends = options.get("backends", ["sparse", "symbolic"])
    for b in backends:
        if b not in DISTILLERS:
            raise ConfigError(f"distill backend {b!r} is not one of {list(DISTILLERS)}.{did_you_mean(b, DISTILLERS)}")
    for name, cls in DISTILLERS.items():
        check_keywords(f"{name} distill", options.get(name, {}), cls)
    if "library" in options.get("sparse", {}):  # a typo here must not wait until training is over
        try:
            check_library(options["sparse"]["library"])
        except FitError as error:
            raise ConfigError(f"distill sparse {error}") from None
    fraction = options.get("selection", 0.2)
    if not isinstance(fraction, (int, float)) or not 0 <= fraction < 0.5:
        raise ConfigError(
            f"distill selection must be a fraction in [0, 0.5) of each training trajectory held out to choose "
            f"candidates on, got {fraction!r}; 0.2 is the default, 0 chooses on the training windows."
        )
    top = options.get("refit_candidates", 6)
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ConfigError(
            f"distill refit_candidates must be a whole number >= 0 (how many of the best-scoring front candidates "
            f"are refit through the solver before the choice), got {top!r}; 6 is the default, 0 turns it off."
        )
    if options.get("choose_by", "resimulation") not in ("resimulation", "residual"):
        raise ConfigError(f"distill choose_by must be 'resimulation' or 'residual', got {options['choose_by']!r}.")
    for key in ("joint", "refit", "prune", "round"):  # "false" in a TOML string would read as true
        if key in options and not isinstance(options[key], bool):
            raise ConfigError(f"distill {key} must be true or false, got {options[key]!r}; write {key} = false "
                              f"(no quotes) to turn it off.")
    return {"backends": list(backends), **{k: v for k, v in options.items() if k != "backends"}}


__all__ = ["check_distill_options"]
