"""Closed forms for a learned gate: the forms physiologists write, fitted, refitted on the data and
chosen on a front of accuracy against size.

Two ways of writing a gate are tried:
- steady state and time constant: a Boltzmann x_inf = 1/(1 + exp((V_h - V)/k)) with tau constant,
  a bell tau_max/cosh((V - V_t)/s) (with or without a floor), a sigmoid, or an asymmetric bell;
- opening and closing rates dx/dt = alpha(V)(1 - x) - beta(V) x with each rate exponential,
  sigmoid or expo-linear (HH's x/(1 - exp(-x)), written with exprel), as NeuroML names them.

Each candidate is first fitted to the networks' curves over the voltages the data visited (cheap,
and where the networks are trustworthy); `_kinetics_fit` then refits it on the data and chooses.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp
import torch
from scipy.optimize import least_squares

from ..equations import exprel

GRID = 200  # voltages the networks' curves are sampled at


@dataclasses.dataclass(frozen=True)
class _Piece:
    """One function of V: its parameter names (with 'V' or 'T' for their unit: voltage or time,
    'R' for a rate, '1' for none), a torch/numpy evaluator and a sympy writer."""

    name: str
    params: tuple[tuple[str, str], ...]
    value: Callable  # (V, p, lib) -> values; lib is torch or numpy
    expr: Callable  # (V symbol, symbols) -> sympy


def _sig(lib, z):
    return 1 / (1 + lib.exp(-z))


BOLTZMANN = _Piece("Boltzmann", (("Vh", "V"), ("k", "V")),
                   lambda v, p, lib: _sig(lib, (v - p[0]) / p[1]),
                   lambda v, s: 1 / (1 + sp.exp((s[0] - v) / s[1])))
TAUS = (
    _Piece("constant", (("tau", "T"),), lambda v, p, lib: p[0] + 0 * v, lambda v, s: s[0]),
    _Piece("bell", (("tau_max", "T"), ("tau_V", "V"), ("tau_s", "V")),
           lambda v, p, lib: p[0] / lib.cosh((v - p[1]) / p[2]), lambda v, s: s[0] / sp.cosh((v - s[1]) / s[2])),
    _Piece("bell with floor", (("tau_min", "T"), ("tau_max", "T"), ("tau_V", "V"), ("tau_s", "V")),
           lambda v, p, lib: p[0] + p[1] / lib.cosh((v - p[2]) / p[3]),
           lambda v, s: s[0] + s[1] / sp.cosh((v - s[2]) / s[3])),
    _Piece("sigmoid", (("tau_min", "T"), ("tau_step", "T"), ("tau_V", "V"), ("tau_s", "V")),
           lambda v, p, lib: p[0] + p[1] * _sig(lib, (v - p[2]) / p[3]),
           lambda v, s: s[0] + s[1] / (1 + sp.exp(-(v - s[2]) / s[3]))),
    _Piece("asymmetric bell", (("tau_min", "T"), ("tau_max", "T"), ("tau_V", "V"), ("tau_s1", "V"), ("tau_s2", "V")),
           lambda v, p, lib: p[0] + p[1] / (lib.exp((v - p[2]) / p[3]) + lib.exp(-(v - p[2]) / p[4])),
           lambda v, s: s[0] + s[1] / (sp.exp((v - s[2]) / s[3]) + sp.exp(-(v - s[2]) / s[4]))),
)


def _exprel(lib, z):
    return exprel.torch(z) if lib is torch else exprel.numpy(z)


RATES = (
    _Piece("exponential", (("rate", "R"), ("mid", "V"), ("scale", "V")),
           lambda v, p, lib: p[0] * lib.exp((v - p[1]) / p[2]), lambda v, s: s[0] * sp.exp((v - s[1]) / s[2])),
    _Piece("sigmoid", (("rate", "R"), ("mid", "V"), ("scale", "V")),
           lambda v, p, lib: p[0] * _sig(lib, (v - p[1]) / p[2]),
           lambda v, s: s[0] / (1 + sp.exp(-(v - s[1]) / s[2]))),
    _Piece("expo-linear", (("rate", "R"), ("mid", "V"), ("scale", "V")),
           lambda v, p, lib: p[0] / _exprel(lib, -(v - p[1]) / p[2]),
           lambda v, s: s[0] / exprel(-(v - s[1]) / s[2])),
)


@dataclasses.dataclass(frozen=True)
class GateForm:
    """One closed form of a gate: `kind` "steady state" (x_inf, tau pieces) or "rates" (alpha, beta
    pieces), its parameters (name -> value) and their standard errors, its data loss and size."""

    kind: str
    pieces: tuple[str, str]
    values: dict[str, float]
    errors: dict[str, float]
    loss: float
    curve_error: float

    @property
    def size(self) -> int:
        """Free parameters (an exponential rate's midpoint and amplitude count once: only their
        product e^(-mid/scale) rate is identifiable)."""
        return len(self.values) - sum(1 for p in self.pieces if p == "exponential")

    @property
    def label(self) -> str:
        first, second = self.pieces
        return (f"x_inf {first}, tau {second}" if self.kind == "steady state"
                else f"alpha {first}, beta {second}")


@dataclasses.dataclass(frozen=True)
class _Candidate:
    kind: str
    first: _Piece
    second: _Piece

    @property
    def label(self) -> str:
        """As `GateForm.label` names it: "x_inf Boltzmann, tau bell", "alpha expo-linear, beta exponential"."""
        if self.kind == "steady state":
            return f"x_inf {self.first.name}, tau {self.second.name}"
        return f"alpha {self.first.name}, beta {self.second.name}"

    @property
    def names(self) -> list[str]:
        tags = ("inf", "tau") if self.kind == "steady state" else ("alpha", "beta")
        pieces = zip(tags, (self.first, self.second), strict=True)
        return [f"{tag}_{n}" if self.kind == "rates" else n for tag, piece in pieces for n, _ in piece.params]

    @property
    def units(self) -> list[str]:
        return [u for piece in (self.first, self.second) for _, u in piece.params]

    def split(self, p):
        n = len(self.first.params)
        return p[:n], p[n:]

    def curves(self, v, p, lib):
        """(x_inf, tau) at `v`."""
        a, b = self.split(p)
        f, g = self.first.value(v, a, lib), self.second.value(v, b, lib)
        if self.kind == "steady state":
            return f, g
        return f / (f + g), 1 / (f + g)

    def rhs(self, x: sp.Symbol, v: sp.Symbol, symbols: Sequence[sp.Symbol]) -> sp.Expr:
        a, b = self.split(list(symbols))
        f, g = self.first.expr(v, a), self.second.expr(v, b)
        return (f - x) / g if self.kind == "steady state" else f * (1 - x) - g * x


def candidates() -> list[_Candidate]:
    out = [_Candidate("steady state", BOLTZMANN, tau) for tau in TAUS]
    return out + [_Candidate("rates", a, b) for a in RATES for b in RATES]


def fit_to_curves(candidate: _Candidate, v: np.ndarray, x_inf: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, float]:
    """The candidate's parameters fitted to sampled curves (x_inf directly; tau, or the rates
    alpha = x_inf/tau and beta = (1 - x_inf)/tau, on a log scale: relative errors), and
    `curve_error` of the result."""
    span = float(v.max() - v.min())
    if candidate.kind == "steady state":
        first = _best(lambda p: _sig(np, (v - p[0]) / p[1]) - x_inf, _boltzmann_starts(v, x_inf, span))
        second = _best_on_log_scale(candidate.second, v, tau, _tau_starts(candidate.second, v, tau, span))
    else:
        alpha, beta = x_inf / tau, (1 - x_inf) / tau
        first = _best_on_log_scale(candidate.first, v, alpha, _rate_starts(candidate.first, v, alpha, span))
        second = _best_on_log_scale(candidate.second, v, beta, _rate_starts(candidate.second, v, beta, span))
    p = np.concatenate([first, second])
    return p, curve_error(candidate, p, v, x_inf, tau)


def _best_on_log_scale(piece: _Piece, v: np.ndarray, target: np.ndarray, starts: list) -> np.ndarray:
    """`piece` fitted to a positive `target` on a log scale from `starts` (`_best`), keeping only
    fits whose piece is positive over `v`. The residual takes |value| (a log of a negative is NaN,
    which stops the solver), so the piece negated fits as well: a rate of -0.1 for HH's alpha_n,
    which scipy 1.17's iterations reach first."""
    def residual(p: np.ndarray) -> np.ndarray:
        return np.log(np.abs(piece.value(v, p, np)) + 1e-300) - np.log(target)

    def positive(p: np.ndarray) -> bool:
        with np.errstate(all="ignore"):
            return bool(np.all(piece.value(v, p, np) > 0))
    return _best(residual, starts, positive)


def curve_error(candidate: _Candidate, p: np.ndarray, v: np.ndarray, x_inf: np.ndarray, tau: np.ndarray) -> float:
    """How far the form with parameters `p` is from sampled curves: the root mean square of
    x_inf's error plus tau's relative error (log tau), over `v`; inf where it is not finite."""
    with np.errstate(all="ignore"):
        fx, ft = candidate.curves(v, p, np)
        err = np.sqrt(np.mean((fx - x_inf) ** 2) + np.mean((np.log(np.abs(ft) + 1e-300) - np.log(tau)) ** 2))
    return float(err) if np.isfinite(err) else math.inf


def _best(residual, starts, valid: Callable[[np.ndarray], bool] = lambda p: True) -> np.ndarray:
    """The least-squares fit of `residual` with the lowest cost over `starts` that passes `valid`."""
    best, cost = None, math.inf
    for start in starts:
        try:
            with np.errstate(all="ignore"):
                fit = least_squares(residual, start, method="lm", max_nfev=400 * (len(start) + 1))
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fit.cost) and fit.cost < cost and valid(fit.x):
            best, cost = fit.x, fit.cost
    return np.asarray(starts[0] if best is None else best, dtype=float)


def _boltzmann_starts(v, x_inf, span):
    slope = np.sign(x_inf[-1] - x_inf[0]) or 1.0
    half = v[np.argmin(np.abs(x_inf - 0.5))]
    return [np.array([half, slope * span / d]) for d in (4, 8, 16)]


def _tau_starts(piece, v, tau, span):
    top, low, peak = tau.max(), tau.min(), v[np.argmax(tau)]
    mid = v[len(v) // 2]
    if piece.name == "constant":
        return [np.array([np.median(tau)])]
    if piece.name == "bell":
        return [np.array([top, peak, span / d]) for d in (2, 4, 8)]
    if piece.name == "bell with floor":
        return [np.array([low, top - low, peak, span / d]) for d in (2, 4, 8)]
    if piece.name == "sigmoid":
        sign = 1.0 if tau[-1] > tau[0] else -1.0
        return [np.array([low, top - low, mid, sign * span / d]) for d in (4, 8)]
    return [np.array([low, top, peak, span / d, span / d]) for d in (2, 4, 8)]


def _rate_starts(piece, v, rate, span):
    slope, intercept = np.polyfit(v, np.log(rate), 1)
    scale = 1 / slope if abs(slope) > 1e-9 else span
    mid = float(v[len(v) // 2])
    if piece.name == "exponential":
        return [np.array([float(np.exp(intercept + mid * slope)), mid, scale])]
    sign = np.sign(scale) or 1.0
    top = float(rate.max())
    starts = [np.array([top, m, sign * span / d]) for m in (v[len(v) // 4], mid, v[3 * len(v) // 4]) for d in (4, 8)]
    return starts + [np.array([top, float(v[0] if sign < 0 else v[-1]), scale])]


def candidate(label: str) -> _Candidate:
    """The candidate form named `label` (`GateForm.label`)."""
    for c in candidates():
        if c.label == label:
            return c
    raise ValueError(f"no gate form is named {label!r}; the forms are {[c.label for c in candidates()]}.")


