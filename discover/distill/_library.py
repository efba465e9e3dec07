"""Feature libraries for sparse regression, and refinement of the constants inside their terms.

Neuron models are not polynomials: spike initiation is exponential (AdEx, Badel et al. 2008),
gates are Boltzmann sigmoids 1/(1 + exp(-(V - c)/k)) multiplied by a driving force (V - E).
A sparse regression can only pick such terms if the library holds them, so we lay a grid of
half-activations `c` and slopes `k` over the range the data cover, then refine the chosen
terms' `c` and `k` continuously (`refine_inner`), since no grid hits the truth exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pysindy as ps
import sympy as sp
from scipy.optimize import least_squares

from .._errors import FitError, did_you_mean
from ..equations import evaluate_expression

LIBRARIES = ("polynomial", "exp", "sigmoid", "gate", "trig", "saturating")  # "gate": see _gate.py
# slopes as fractions of a feature's spread; half-activations at these quantiles of the data
_EXP_SLOPES = (0.1, 0.2, 0.4)
_SIG_SLOPES = (0.05, 0.15, 0.4)
_SIG_CENTRES = (0.1, 0.3, 0.5, 0.7, 0.9)
CANCELLATION = 100.0
"""A refined sum whose terms' sizes (RMS over the samples) add up to more than this many times the
size of the sum is kept unrefined: refinement drove two terms to one shape with huge opposite
coefficients (-1.19e9 exp(0.218774 V) + 1.19e9 exp(0.218776 V) on the FSI cell), a difference
quotient no physiologist would write, whose re-simulation depends on rounding."""
# half-saturation constants as multiples of a feature's largest magnitude (refined by `refine_inner`)
_HALF_SATURATION = (0.25, 1.0, 4.0)


def check_library(library: Sequence[str]) -> tuple[str, ...]:
    library = (library,) if isinstance(library, str) else tuple(library)
    for name in library:
        if name not in LIBRARIES:
            raise FitError(f"`library` entry {name!r} is not one of {list(LIBRARIES)}.{did_you_mean(name, LIBRARIES)}")
    if not library:
        raise FitError("`library` is empty; give at least one of " f"{list(LIBRARIES)}, e.g. ['polynomial'].")
    return library


def build_library(
    X: np.ndarray, names: Sequence[str], library: Sequence[str], degree: int
) -> tuple[np.ndarray, list[sp.Expr]]:
    """Library columns at the samples and the same terms as sympy expressions (constant first)."""
    symbols = [sp.Symbol(n, real=True) for n in names]
    poly = ps.PolynomialLibrary(degree=int(degree) if "polynomial" in library else 1).fit(X)
    columns = [np.asarray(poly.transform(X))]
    terms = [sp.Mul(*[s ** int(k) for s, k in zip(symbols, p, strict=True)]) for p in poly.powers_]
    linear = [X[:, j] for j in range(X.shape[1])]
    for j, x in enumerate(symbols):
        lo, hi = np.quantile(X[:, j], [0.0, 1.0])
        spread = hi - lo
        if spread <= 0:
            continue
        shapes = []
        if "exp" in library:  # exp((x - max)/k): the offset keeps values <= 1, the coefficient absorbs it
            shapes += [sp.exp((x - _round(hi)) / _round(f * spread)) for f in _EXP_SLOPES]
        if "sigmoid" in library:
            centres = np.quantile(X[:, j], _SIG_CENTRES)
            shapes += [1 / (1 + sp.exp(-(x - _round(c)) / _round(f * spread))) for c in centres for f in _SIG_SLOPES]
        for shape in shapes:
            column = evaluate_expression(shape, X, names)
            # each shape alone and times every feature: gates times driving forces
            columns.append(np.column_stack([column, *(column * v for v in linear)]))
            terms += [shape, *(shape * s for s in symbols)]
    for extra in (_trig_terms(symbols) if "trig" in library else []) + \
            (_saturating_terms(X, symbols) if "saturating" in library else []):
        columns.append(evaluate_expression(extra, X, names)[:, None])
        terms.append(extra)
    return np.concatenate(columns, axis=1), terms


def _trig_terms(symbols: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """sin and cos of each feature and of each pair's difference: phases of coupled oscillators
    (Kuramoto, Josephson junctions) interact through sin(x - y), which a polynomial only mimics
    over the range it saw."""
    pairs = [a - b for i, a in enumerate(symbols) for b in symbols[i + 1:]]
    return [f(arg) for arg in (*symbols, *pairs) for f in (sp.sin, sp.cos)]


def _saturating_terms(X: np.ndarray, symbols: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """Michaelis-Menten x/(K + x) (for a feature that stays positive) and Hill x^2/(K^2 + x^2)
    saturations, K on a grid of the feature's largest magnitude: uptake, enzyme kinetics,
    repression (K^2/(K^2 + x^2) is 1 minus the Hill term). `refine_inner` then moves K off the grid."""
    out: list[sp.Expr] = []
    for j, x in enumerate(symbols):
        top = float(np.max(np.abs(X[:, j])))
        if top <= 0:
            continue
        for f in _HALF_SATURATION:
            K = _round(f * top)
            if np.min(X[:, j]) > 0:
                out.append(x / (K + x))
            out.append(x**2 / (_round(float(K) ** 2) + x**2))
    return out


def inner_constants(expr: sp.Expr) -> list[sp.Float]:
    """Numbers inside nonlinear functions (slopes, half-activations), not the outer coefficients."""
    return sorted({f for fn in expr.atoms(sp.Function, sp.Pow) for arg in fn.args if not arg.is_Number
                   for f in arg.atoms(sp.Float)}, key=float)


def refine_inner(
    expr: sp.Expr, X: np.ndarray, y: np.ndarray, names: Sequence[str], prune: float = 1e-3, _depth: int = 0
) -> sp.Expr:
    """Refit every number in `expr` (inner constants included) by nonlinear least squares.

    The outer coefficients are solved linearly for each trial of the inner constants
    (variable projection), so only the few inner constants are searched. Terms whose
    contribution falls below `prune` x RMS(y) after refitting are dropped and the rest refit
    again: a grid term that only patched a misplaced sigmoid is useless once the sigmoid moves.
    Returns `expr` unchanged when it has no inner constant or refinement does not lower the error.
    """
    inner = inner_constants(expr)
    if not inner:
        return expr
    if len(y) > 1500:  # a few constants need few samples; keeps each refinement well under a second
        rows = np.random.default_rng(0).choice(len(y), 1500, replace=False)
        X, y = X[rows], y[rows]
    params = [sp.Symbol(f"_p{i}", real=True) for i in range(len(inner))]
    shapes = [t.as_coeff_Mul()[1] for t in sp.Add.make_args(sp.expand(expr, power_exp=False))]
    shapes = [s.xreplace(dict(zip(inner, params, strict=True))) for s in shapes]
    symbols = [sp.Symbol(n, real=True) for n in names]
    # a sigmoid centred at exactly 0 has lost its offset to sympy's x - 0.0 -> x: give it one back
    offsets: dict[sp.Expr, sp.Expr] = {}
    for shape in shapes:
        for e in shape.atoms(sp.exp):
            if e not in offsets and e.args[0].as_independent(*symbols, as_Add=True)[0] == 0 and _in_sigmoid(e, shape):
                offsets[e] = sp.Symbol(f"_p{len(params) + len(offsets)}", real=True)
    shapes = [s.xreplace({e: sp.exp(e.args[0] + q) for e, q in offsets.items()}) for s in shapes]
    params += list(offsets.values())
    inner = [*inner, *(sp.Float(0.0) for _ in offsets)]
    funcs = [sp.lambdify([*symbols, *params], s, "numpy") for s in shapes]

    def design(p: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            cols = [np.broadcast_to(f(*X.T, *p), (len(X),)) for f in funcs]
        return np.column_stack(cols)

    def residual(p: np.ndarray) -> np.ndarray:
        A = design(p)
        if not np.all(np.isfinite(A)):
            return np.full(len(y), 1e6)
        return A @ np.linalg.lstsq(A, y, rcond=None)[0] - y

    p0 = np.array([float(f) for f in inner])
    start = float(np.sum(residual(p0) ** 2))
    fit = least_squares(residual, p0, x_scale=np.maximum(np.abs(p0), 1e-3), max_nfev=100)
    if not np.isfinite(fit.cost) or 2 * fit.cost >= start:
        return expr
    A = design(fit.x)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    sizes = np.sqrt(np.mean((A * coef) ** 2, axis=0))
    if sizes.sum() > CANCELLATION * np.sqrt(np.mean((A @ coef) ** 2)):
        return expr  # terms that cancel each other (two exps with one slope, 1e9 apart) fit noise, not form
    values = {p: sp.Float(v, 6) for p, v in zip(params, fit.x, strict=True)}
    keep = sizes > prune * (np.sqrt(np.mean(y**2)) or 1.0)
    out = sum((sp.Float(c, 6) * s.xreplace(values) for c, s, k in zip(coef, shapes, keep, strict=True) if k),
              sp.Integer(0))
    if keep.all() or not keep.any() or _depth > 0:
        return out
    return refine_inner(out, X, y, names, prune, _depth + 1)


def _in_sigmoid(e: sp.Expr, shape: sp.Expr) -> bool:
    """Whether `e` appears as 1 + c*e (a Boltzmann denominator), where an offset is not redundant."""
    return any(e in a.atoms(sp.exp) for a in shape.atoms(sp.Add))


def _round(x: float) -> sp.Float:
    return sp.Float(float(f"{x:.3g}"), 3)
