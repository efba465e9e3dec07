"""Symbolic regression backends: pyoperon (runs anywhere) and PySR (needs Julia)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import sympy as sp

from .._errors import FitError, NonFiniteNumberError
from ..equations import evaluate_expression, parse_expression
from ._base import FrontChoice, check_xy, make_candidate, split_indices
from ._polish import polish

# Functions pyoperon may print, as sympy: its own names mapped onto ours.
_OPERON_FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "square": lambda x: x**2,
    "cbrt": lambda x: sp.cbrt(x),
    "aq": lambda x, y: x / sp.sqrt(1 + y**2),
}
BACKENDS = ("operon", "pysr")


class SymbolicDistiller(FrontChoice):
    """Distil a residual by symbolic regression; every expression on the search's Pareto front
    (accuracy vs length) is polished (tiny terms pruned, coefficients refit) and scored on
    held-out samples.

    **Arguments:** `backend` ("operon", or "pysr" where Julia and PySR are installed);
    `operators` (pyoperon symbol names, e.g. "exp", "tanh", "log", "square"); `max_length` of an
    expression; `max_evaluations` (the search budget: same seed, same result on any machine);
    `time_limit` in seconds (a safety cap: a search stopped by it depends on machine speed);
    `generations`, `population_size`; `threads` (default 1): that many independent searches
    ("islands", each one thread with its own seed and an equal share of `max_evaluations`) run side
    by side and their fronts are merged, so two halve the demo's search. A seeded search gives the
    same front on any machine, however busy, for a given number of threads, but a different number
    changes the front, so the default is a number, not "every core"; 0 uses every core this process
    may use. PySR runs serially, as its deterministic mode needs); `prune` (terms
    contributing less than this fraction of the target's RMS are dropped); `tolerance`, `floor`
    (the choice rule of `choose`); `holdout`; `seed`.

    **Learned attributes:** `candidates_`, `front_`, `chosen_`, `expression_`.
    """

    def __init__(
        self, *, backend: str = "operon", operators: Sequence[str] = ("add", "sub", "mul", "div", "exp", "tanh"),
        max_length: int = 25, max_evaluations: int = 100_000, time_limit: float = 60.0, generations: int = 1000,
        population_size: int = 500, threads: int = 1,
        prune: float = 1e-3, tolerance: float = 2.0, floor: float = 1e-4, holdout: float = 0.25, seed: int = 0,
    ) -> None:
        self.backend, self.operators, self.max_length = backend, operators, max_length
        self.max_evaluations, self.time_limit = max_evaluations, time_limit
        self.generations, self.population_size, self.prune = generations, population_size, prune
        self.threads = threads
        self.tolerance, self.floor, self.holdout, self.seed = tolerance, floor, holdout, seed

    def fit(self, X: np.ndarray, y: np.ndarray, feature_names: Sequence[str]) -> SymbolicDistiller:
        X, y = check_xy(X, y, feature_names)
        if self.backend not in BACKENDS:
            raise FitError(f"`backend`={self.backend!r} is not one of {list(BACKENDS)}.")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise FitError(f"`threads`={self.threads!r} must be a whole number >= 0 of search threads: 1 (the "
                           f"default) or more; 0 uses every core.")
        train, held = split_indices(len(y), self.holdout, self.seed)
        raw = self._search(X[train], y[train], feature_names)
        candidates = {}
        for expr in raw:
            clean = polish(expr, X[train], y[train], feature_names, self.prune)
            if clean is None or clean in candidates:
                continue
            with np.errstate(all="ignore"):
                prediction = evaluate_expression(clean, X[held], feature_names)
            if np.all(np.isfinite(prediction)):
                candidates[clean] = make_candidate(clean, prediction, y[held], f"symbolic ({self.backend})")
        return self._choose_from(
            list(candidates.values()),
            "symbolic search found no finite candidate; raise `max_evaluations` or change `operators`.",
        )

    def _search(self, X: np.ndarray, y: np.ndarray, names: Sequence[str]) -> list[sp.Expr]:
        if self.backend == "pysr":
            return _pysr_search(self, X, y, names)
        n = search_threads(self.threads)
        budgets = [int(self.max_evaluations) // n + (k < int(self.max_evaluations) % n) for k in range(n)]

        def island(k: int) -> list[tuple[float, float, str]]:
            return _operon_front(self, X, y, names, budgets[k], int(self.seed) + k)

        if n == 1:  # one search: its front as pyoperon gives it
            front = island(0)
        else:
            # Islands, not one search on n threads: pyoperon's threads draw from a shared budget in the order
            # the OS schedules them, so on a busy machine a seeded 2-thread search changed its front (1 run
            # of 3 with both cores busy). Independent one-thread searches, each with its own seed and share of
            # the budget, run side by side (pyoperon releases the GIL) and give the same fronts however busy.
            with ThreadPoolExecutor(n) as pool:
                front = _merged_front(list(pool.map(island, range(n))))
        return _parsed([text for _, _, text in front], names, _OPERON_FUNCTIONS)


def _operon_front(d: SymbolicDistiller, X: np.ndarray, y: np.ndarray, names: Sequence[str], evaluations: int,
                  seed: int) -> list[tuple[float, float, str]]:
    """One single-threaded pyoperon search: its Pareto front as (-R^2, length, expression text)."""
    from pyoperon.sklearn import SymbolicRegressor

    symbols = ",".join(dict.fromkeys(["add", "sub", "mul", "div", "constant", "variable", *d.operators]))
    reg = SymbolicRegressor(
        allowed_symbols=symbols, objectives=["r2", "length"], optimizer_iterations=10,
        max_length=int(d.max_length), generations=int(d.generations),
        population_size=int(d.population_size), max_evaluations=max(evaluations, 1), n_threads=1,
        random_state=seed, max_time=max(1, int(np.ceil(d.time_limit))),
    )
    reg.fit(X, y)
    return [(float(p["objective_values"][0]), float(p["objective_values"][1]),
             reg.get_model_string(p["tree"], 16, names=list(names))) for p in reg.pareto_front_]


def _merged_front(fronts: Sequence[list[tuple[float, float, str]]]) -> list[tuple[float, float, str]]:
    """The islands' fronts as one: the points no other point beats on both error and length (the first
    island's on a tie), shortest first."""
    points = [p for front in fronts for p in front]
    kept = [p for i, p in enumerate(points)
            if not any((q[0] <= p[0] and q[1] <= p[1]) and (q[:2] != p[:2] or j < i) for j, q in enumerate(points))]
    return sorted(kept, key=lambda p: (p[1], p[0]))


def _pysr_search(d: SymbolicDistiller, X: np.ndarray, y: np.ndarray, names: Sequence[str]) -> list[sp.Expr]:
    try:
        from pysr import PySRRegressor
    except Exception as exc:  # ImportError, or juliapkg failing to fetch Julia
        raise FitError(
            f"the PySR backend needs PySR and a working Julia ({type(exc).__name__}: {exc}). "
            "Install them with `pip install pysr` on a machine that can download Julia, "
            "or use backend='operon', which needs neither."
        ) from None
    unary = [op for op in d.operators if op not in ("add", "sub", "mul", "div")]
    reg = PySRRegressor(
        binary_operators=["+", "-", "*", "/"], unary_operators=unary, maxsize=int(d.max_length),
        timeout_in_seconds=d.time_limit, random_state=int(d.seed), deterministic=True, parallelism="serial",
    )
    reg.fit(X, y, variable_names=list(names))
    return _parsed([str(e) for e in reg.equations_["equation"]], names)


def _parsed(texts: Sequence[str], names: Sequence[str],
            functions: dict[str, Callable[..., sp.Expr]] | None = None) -> list[sp.Expr]:
    """The front's expressions, without those that hold a number that is not finite: a constant
    that overflows (exp(3155) on a Lotka-Volterra seed's derivative samples) makes no candidate,
    where it used to end the whole run. Any other parse error still raises: it means the parser
    lacks something the search writes."""
    out = []
    for text in texts:
        try:
            out.append(parse_expression(text, names, functions))
        except NonFiniteNumberError:
            continue
    return out


def search_threads(threads: int) -> int:
    """`threads`, or for 0 the cores this process may use (its CPU affinity where the OS has one)."""
    if threads:
        return threads
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(usable) if usable else (os.cpu_count() or 1)
