"""The spike rule of hybrid spiking models: threshold (fixed or moving), reset, refractoriness, jumps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._errors import EquationError, did_you_mean


@dataclass(frozen=True)
class SpikeRule:
    """Hybrid spiking: when `state` reaches its threshold, a spike is emitted, `state` is set to
    `reset` and held there for `refractory` (in the system's time unit); the ODE runs otherwise.

    This is how integrate-and-fire models (LIF, EIF, AdEx, GIF) stand for the spike itself, whose
    fast currents a smooth right-hand side cannot reproduce at the sampling rate.

    The threshold is `threshold + sum(coefficient * value of name for name, coefficient in moving)`:
    a fixed number, or a moving threshold (GIF, Pozzorini et al. 2015) whose moving part is carried
    by ordinary states of the system, e.g. dtheta/dt = -theta/tau_theta with `add` theta += 1.

    `watch` names another state to compare with the threshold in place of `state`, which is still
    the one reset and held: e.g. the integrated escape rate H of a GIF (dH/dt = exp((V - VT)/DV),
    set to 0 at each spike with `also`), whose crossing of ln 2 is the median spike time of its
    escape noise, the deterministic reading of a stochastic model.
    """

    state: str
    threshold: float
    reset: float
    refractory: float = 0.0
    also: tuple[tuple[str, float], ...] = ()
    """Other states set at each spike, as (name, value) pairs: e.g. a clock of the time since the
    last spike, ("s", 0.0)."""
    add: tuple[tuple[str, float], ...] = ()
    """States incremented at each spike, as (name, amount) pairs: e.g. AdEx's spike-triggered
    adaptation, w += b."""
    moving: tuple[tuple[str, float], ...] = ()
    """The moving part of the threshold, as (state name, coefficient) pairs: the model spikes when
    `state >= threshold + sum(coefficient * name)`; e.g. (("theta", 12.0),) for a threshold 12 mV
    higher per unit of theta."""
    watch: str | None = None
    """The state compared with the threshold where it is not `state`, e.g. "H" (see above)."""

    @property
    def watched(self) -> str:
        """The state whose crossing of the threshold is a spike: `watch`, or else `state`."""
        return self.watch if self.watch is not None else self.state

    def effects(self) -> str:
        """What a spike does besides the reset, as text: ", s -> 0, w += 1"."""
        return "".join(f", {n} -> {v:g}" for n, v in self.also) + "".join(f", {n} += {v:g}" for n, v in self.add)

    def threshold_text(self) -> str:
        """The threshold as text: "-45", or with a moving part "-45 + 12*theta_1 - 3*theta_2"."""
        return f"{self.threshold:g}" + "".join(f" {'-' if c < 0 else '+'} {abs(c):g}*{n}" for n, c in self.moving)

    def threshold_at(self, y: np.ndarray, states: Sequence[str]) -> np.ndarray:
        """The threshold's value at each sample of `y` `(..., n_states)` (columns named by `states`)."""
        level = np.full(np.shape(y)[:-1], float(self.threshold))
        for name, coefficient in self.moving:
            level = level + coefficient * np.asarray(y)[..., list(states).index(name)]
        return level

    def check_names(self, states: Sequence[str]) -> None:
        """Every state the rule names is one of `states` (the system checks this where it is built)."""
        for field, names in (("state", (self.state,)), ("watch", () if self.watch is None else (self.watch,)),
                             ("also", [n for n, _ in self.also]),
                             ("add", [n for n, _ in self.add]), ("moving", [n for n, _ in self.moving])):
            for name in names:
                if name not in states:
                    what = "spike rule on" if field == "state" else f"spike rule `{field}` names"
                    raise EquationError(f"{what} {name!r}, which is not a state of {list(states)}; name one of "
                                        "the system's states." + did_you_mean(name, states))

    def __post_init__(self) -> None:
        for name in ("also", "add", "moving"):
            object.__setattr__(self, name, _pairs(name, getattr(self, name)))
        for name in ("threshold", "reset", "refractory"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise EquationError(f"spike rule `{name}` must be a number, got {value!r}.")
        # a moving threshold is higher after a spike than its fixed part (a GIF's jumps, a threshold that
        # followed the depolarisation up), so a reset above the fixed part can be right there
        if self.watch is not None and (not isinstance(self.watch, str) or self.watch == self.state):
            raise EquationError(f"spike rule `watch` is {self.watch!r}; name a state other than {self.state!r} to "
                                "compare with the threshold, or leave it None to compare the spiking state.")
        if not self.reset < self.threshold and not self.moving and self.watch is None:
            raise EquationError(f"spike `reset` ({self.reset}) must lie below `threshold` ({self.threshold}), "
                                "or the model would spike again at once.")
        if self.refractory < 0:
            raise EquationError(f"spike `refractory` must be >= 0, got {self.refractory}.")
        named = [n for n, _ in (*self.also, *self.add)]
        if self.state in named:  # every exporter writes the reset and these as separate statements
            raise EquationError(f"spike rule `also`/`add` names {self.state!r}, the state the rule resets; "
                                f"set its value after a spike with `reset` ({self.reset:g}) instead.")
        twice = sorted({n for n in named if named.count(n) > 1})
        if twice:
            raise EquationError(f"spike rule `also`/`add` name {twice} more than once; give each state one "
                                "change per spike (set it with `also` or increment it with `add`).")
        self._check_moving()

    def _check_moving(self) -> None:
        moving = [n for n, _ in self.moving]
        if self.watched in moving:  # V >= VT + b*V is a different fixed threshold, and exporters watch V alone
            raise EquationError(f"spike rule `moving` names {self.watched!r}, the state that spikes; the moving part "
                                f"of the threshold is carried by other states, e.g. moving=(('theta', 12.0),) with "
                                "dtheta/dt = -theta/tau_theta and add=(('theta', 1.0),).")
        twice = sorted({n for n in moving if moving.count(n) > 1})
        if twice:
            raise EquationError(f"spike rule `moving` names {twice} more than once; give each state one "
                                "coefficient (their sum).")
        for name, coefficient in self.moving:
            if not math.isfinite(coefficient):
                raise EquationError(f"spike rule `moving` gives {name!r} the coefficient {coefficient!r}; give a "
                                    f"finite number (threshold change per unit of {name}).")


def _pairs(field: str, items) -> tuple[tuple[str, float], ...]:
    """`also`, `add` or `moving` as (name, number) pairs (a saved system gives lists)."""
    hint = f"give (state name, number) pairs, e.g. {field}=(('theta', 1.0),)."
    if isinstance(items, (str, bytes)) or not isinstance(items, (Sequence, np.ndarray)):
        raise EquationError(f"spike rule `{field}` is {items!r}; {hint}")
    out = []
    for item in items:
        try:
            name, value = item
            if isinstance(value, bool) or not isinstance(name, str):
                raise TypeError
            out.append((name, float(value)))
        except (TypeError, ValueError):
            raise EquationError(f"spike rule `{field}` holds {item!r}; {hint}") from None
    return tuple(out)
