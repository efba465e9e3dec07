"""Print an equation system's right-hand sides as the source of ONE Python function, compiled once.

Every call of the function computes all right-hand sides at once, common subexpressions
(`sympy.cse`) computed once, with one torch (or numpy) operation per printed operator: no tree
walk per call, and autograd records one node per real operation.

Why `compile`/`exec` is safe here: the source is printed by this module from a sympy tree, never
from user text. Every node of the tree is checked against a whitelist (symbols, numbers, pi, E,
+, *, **, and the functions in `FUNCTIONS`; derivatives add sign and exprel's derivative, see
`_compile`) before anything is printed; any other node raises `EquationError`. What reaches the
source is only: our own variable names (`y0`, `t3`; a symbol's name is never printed), our own
function names, float literals printed by `repr(float)`, integer literals, operators and
parentheses. The function's namespace holds the backend's functions under those names.
"""

from __future__ import annotations

import functools
import itertools
import linecache
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp
import torch

from .._errors import EquationError
from ._functions import exprel, exprel_numpy, exprel_torch

# sympy function type -> the name the generated source calls it by (the same in both backends)
FUNCTIONS: Mapping[type, str] = {
    sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh",
    sp.sin: "sin", sp.cos: "cos", sp.Abs: "abs_", exprel: "exprel",
}
_NUMPY_FUNCTIONS: Mapping[str, Callable] = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "sin": np.sin,
    "cos": np.cos, "abs_": np.abs, "exprel": exprel_numpy, "sqrt": np.sqrt,
    "pow": operator.pow,  # `**`: numpy squares and cubes by multiplication there, np.power calls C's pow
}
NAMESPACES: Mapping[str, Mapping[str, Callable]] = {
    "torch": {
        "exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh,
        "sin": torch.sin, "cos": torch.cos, "abs_": torch.abs, "exprel": exprel_torch, "sqrt": torch.sqrt,
        # torch.pow directly: `x**k` goes through a Python wrapper in torch._tensor first
        "pow": torch.pow, "reciprocal": torch.reciprocal, "stack": torch.stack, "where": torch.where,
        "zeros_like": torch.zeros_like,
    },
    "numpy": {**_NUMPY_FUNCTIONS, "reciprocal": lambda x: 1.0 / x, "empty": np.empty, "float64": np.float64},
}
_CONSTANTS = (sp.pi, sp.E)
# Python's compiler recurses once per nesting level and once per operator of a chain, and its
# tokenizer refuses 200 nested parentheses: longer chains and deeper nests go through temporaries.
_MAX_CHAIN = 64
_MAX_NEST = 40


class Columns(NamedTuple):
    """The symbols one argument of the generated function holds, column by column."""

    argument: str  # the argument's name in the generated source: y, u, r or p
    symbols: tuple[sp.Symbol, ...]


class Generated(NamedTuple):
    function: Callable
    source: str


class Prepared(NamedTuple):
    """Right-hand sides checked against the whitelist, constants folded, with the names symbols print as."""

    exprs: tuple[sp.Expr, ...]
    constants: dict[sp.Symbol, float]  # folded constant subtrees, by the real-valued symbol that replaced each
    names: dict[sp.Symbol, str]  # column symbols -> `y0`, `p3`; constant symbols -> their literals


def check_supported(expr: sp.Expr, backend: str, functions: Mapping[type, str] = FUNCTIONS) -> None:
    """Raise `EquationError` for the first node outside the whitelist (iteratively: no recursion limit)."""
    for node in sp.preorder_traversal(expr):
        if not (node.is_Symbol or node.is_Number or node in _CONSTANTS or isinstance(node, (sp.Add, sp.Mul, sp.Pow))
                or (type(node) in functions and len(node.args) == 1)):
            raise EquationError(f"cannot compile `{node}` to {backend}: {type(node).__name__} is not supported.")


@functools.lru_cache(maxsize=256)
def prepare(exprs: tuple[sp.Expr, ...], columns: tuple[Columns, ...], backend: str) -> Prepared:
    for expr in exprs:
        check_supported(expr, backend)
    names = {sym: f"{c.argument}{j}" for c in columns for j, sym in enumerate(c.symbols)}
    for expr in exprs:
        for sym in expr.free_symbols:
            if sym not in names:
                raise EquationError(f"cannot compile `{expr}` to {backend}: `{sym}` is not a state, input, "
                                    "residual or free parameter, and has no value.")
    folded, constants = _fold_constants(exprs)
    return Prepared(folded, constants, {**names, **{s: _literal(v) for s, v in constants.items()}})


Cap = tuple[int, float, tuple[tuple[int, float], ...]]
"""A spike cap: (spiking state's column, threshold, (column, coefficient) of each moving part)."""


def generate(
    exprs: Sequence[sp.Expr], columns: Sequence[Columns], backend: str, cap: Cap | None = None
) -> Generated:
    """Compile `exprs` into `f(<one argument per Columns>) -> all right-hand sides`.

    Torch: returns a tensor `(..., len(exprs))`; `cap = (i, threshold, moving)` clamps state
    column `i` of the first argument at the threshold, `threshold + sum(c * column j)` over
    `moving`'s (j, c), and zeroes derivative `i` at or above it.
    Numpy: returns a float array `(..., len(exprs))` over the first argument's leading axes.
    Compiled functions are cached: refits build the same system many times over.
    """
    return _generate(tuple(exprs), tuple(columns), backend, cap)


@functools.lru_cache(maxsize=256)
def _generate(exprs: tuple, columns: tuple, backend: str, cap: Cap | None) -> Generated:
    prepared = prepare(exprs, columns, backend)
    printer = Printer(prepared.names)
    outputs = printer.common(prepared.exprs)
    states = set(columns[0].symbols)
    broadcast = [not (e.free_symbols & states) for e in prepared.exprs]  # outputs that need the states' shape
    used = words(*printer.lines, *outputs) | ({f"{columns[0].argument}0"} if any(broadcast) else set())
    body = unpack(columns, used, backend, cap) + printer.lines
    if backend == "torch":
        body += torch_outputs(outputs, broadcast, columns, cap) + [f"return stack(({tuple_of(outputs, 'o')}), -1)"]
    else:
        y = columns[0].argument
        body += [f"_out = empty({y}.shape[:-1] + ({len(outputs)},), dtype=float64)"]
        body += [f"_out[..., {k}] = {code}" for k, code in enumerate(outputs)] + ["return _out"]
    function = define("rhs", [c.argument for c in columns], body, backend)
    return Generated(function, function.source)  # type: ignore[attr-defined]  # `define` attaches it


def define(name: str, args: Sequence[str], body: Sequence[str], backend: str,
           functions: Mapping[str, Callable] | None = None) -> Callable:
    """Compile `def name(args): body` from our own printed lines (see the module docstring);
    `functions` adds names the body may call."""
    source = f"def {name}({', '.join(args)}):\n" + "".join(f"    {line}\n" for line in body)
    filename = f"<discover generated {backend} {name} {abs(hash(source)):x}>"
    namespace: dict = {**NAMESPACES[backend], **(functions or {})}  # builtins stay: torch's C code imports through them
    exec(compile(source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # readable tracebacks
    function = namespace[name]
    function.source = source
    return function


def _fold_constants(exprs: tuple) -> tuple[tuple[sp.Expr, ...], dict[sp.Symbol, float]]:
    """Replace each largest constant subtree that is not a plain number (exp(2), pi, sqrt(2)) by a
    symbol standing for its float value: constants then never reach a torch function as a Python
    float, are evaluated in float64 once, and never change a float32 tensor's dtype. A finite
    constant exponent becomes a number instead (x**pi -> x**3.14159...): differentiated, it gives
    3.14159*x**2.14159, where a symbolic exponent c gives c*x**c/x, 0/0 at x = 0."""
    found: dict[sp.Expr, sp.Symbol] = {}
    exponents = set()
    for expr in exprs:
        walk = sp.preorder_traversal(expr)
        for node in walk:
            if isinstance(node, sp.Pow):
                exponents.add(node.exp)
            if not node.free_symbols:
                if not node.is_Number and node not in found:
                    found[node] = sp.Dummy(real=True)
                walk.skip()
    with np.errstate(all="ignore"):
        values = {node: _evaluate(node) for node in found}
    replace = {node: sp.Float(values[node]) if node in exponents and math.isfinite(values[node]) else sym
               for node, sym in found.items()}
    constants = {sym: values[node] for node, sym in replace.items() if isinstance(sym, sp.Dummy)}
    return tuple(e.xreplace(replace) for e in exprs), constants


def _evaluate(node: sp.Expr) -> float:
    """A constant subtree's value with numpy's float64 semantics (log(-1.0) is nan, as at run time)."""
    if node.is_Number or node in _CONSTANTS:
        return _float(node)
    values = [_evaluate(a) for a in node.args]
    if isinstance(node, sp.Add):
        return float(math.fsum(values))
    if isinstance(node, sp.Mul):
        return float(np.prod(np.array(values, dtype=float)))
    if isinstance(node, sp.Pow):
        return float(np.power(np.float64(values[0]), np.float64(values[1])))
    return float(_NUMPY_FUNCTIONS[FUNCTIONS[type(node)]](np.float64(values[0])))


def _float(number: sp.Expr) -> float:
    """A number's value; a Float kept to fewer digits (sp.Float(v, 6) from refits and rounding) means
    the decimal it shows and saves (0.200153), not its 23-bit binary value (0.20015347...)."""
    if isinstance(number, sp.Float) and number._prec < 53:
        return float(str(number))
    try:
        return float(number)
    except OverflowError:
        raise EquationError(f"the number {number} is too large for a float; rescale the equation.") from None


def _literal(value: float) -> str:
    if math.isfinite(value):
        return repr(value) if value >= 0 else f"({value!r})"
    return {math.inf: "(1e999)", -math.inf: "(-1e999)"}.get(value, "(1e999 - 1e999)")  # inf, -inf, nan


def words(*code: str) -> set[str]:
    """The names a piece of generated code reads."""
    return {w for c in code for w in re.findall(r"[A-Za-z_]\w*", c)}


def tuple_of(items: Sequence, prefix: str) -> str:
    return "".join(f"{prefix}{k}, " for k in range(len(items)))


def unpack(columns: Sequence[Columns], used: set[str], backend: str, cap: Cap | None) -> list[str]:
    """Lines binding each column that `used` names (`y0 = _y[0]`), and the spike cap's clamp and masks."""
    lines = []
    for c in columns:
        wanted = [j for j in range(len(c.symbols)) if f"{c.argument}{j}" in used]
        if c is columns[0] and cap is not None:
            wanted = sorted({*wanted, cap[0], *(j for j, _ in cap[2])})
        if not wanted:
            continue
        if backend == "torch":  # one unbind: its backward is one stack, where indexing is one scatter per column
            lines.append(f"_{c.argument} = {c.argument}.unbind(-1)")
            lines += [f"{c.argument}{j} = _{c.argument}[{j}]" for j in wanted]
        else:
            lines += [f"{c.argument}{j} = {c.argument}[..., {j}]" for j in wanted]
    if cap is not None and backend == "torch":
        state, threshold = f"{columns[0].argument}{cap[0]}", _literal(float(cap[1]))
        clamp = f"{state}.clamp(max={threshold})"
        if cap[2]:  # a moving threshold: a tensor, computed from the states before any clamp
            lines.append("_threshold = " + " + ".join([threshold, *(f"{_literal(float(k))}*{columns[0].argument}{j}"
                                                                    for j, k in cap[2])]))
            threshold, clamp = "_threshold", f"where({state} > _threshold, _threshold, {state})"  # NaN stays NaN
        lines += [f"_at_threshold = {state} >= {threshold}", f"_passes = {state} <= {threshold}", f"{state} = {clamp}"]
    return lines


def torch_outputs(outputs: Sequence[str], broadcast: Sequence[bool], columns, cap) -> list[str]:
    """Lines `o<k> = ...`: an output free of the states takes their shape; the spike cap zeroes its state's."""
    lines = [f"o{k} = {code}" + (f" + zeros_like({columns[0].argument}0)" if b else "")
             for k, (code, b) in enumerate(zip(outputs, broadcast, strict=True))]
    if cap is not None:
        lines.append(f"o{cap[0]} = where(_at_threshold, 0.0, o{cap[0]})")
    return lines


class Printer:
    """Python source for sympy expressions: `code(expr)` is one expression, `lines` the temporaries it needed."""

    def __init__(self, names: Mapping[sp.Symbol, str], functions: Mapping[type, str] = FUNCTIONS) -> None:
        self.names = dict(names)
        self.functions = functions
        self.lines: list[str] = []
        self._count = itertools.count()

    def common(self, exprs: Sequence[sp.Expr]) -> list[str]:
        """Code for each of `exprs`, their common subexpressions assigned to temporaries once."""
        temporaries, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols(cls=sp.Dummy), order="none")
        for sym, sub in temporaries:
            self.assign(sym, sub)
        return [self.code(e) for e in reduced]

    def assign(self, sym: sp.Symbol, expr: sp.Expr) -> None:
        name = f"t{next(self._count)}"
        self.lines.append(f"{name} = {self.code(expr)}")
        self.names[sym] = name

    def code(self, expr: sp.Expr) -> str:
        return self._print(expr)[0]

    def _hoist(self, code: str) -> tuple[str, int]:
        name = f"t{next(self._count)}"
        self.lines.append(f"{name} = {code}")
        return name, 0

    def _wrap(self, code: str, depth: int) -> tuple[str, int]:
        return self._hoist(code) if depth > _MAX_NEST else (f"({code})", depth + 1)

    def _print(self, expr: sp.Expr) -> tuple[str, int]:
        """(code, parenthesis depth). Compound results come parenthesised, so callers never weigh precedence."""
        if expr.is_Symbol:
            return self.names[expr], 0
        if expr.is_Number:
            return _literal(_float(expr)), 0
        if isinstance(expr, sp.Add):
            return self._add(expr)
        if isinstance(expr, sp.Mul) or (isinstance(expr, sp.Pow) and _denominator(expr) is not None):
            return self._mul(expr, signed=True)[1:]
        if isinstance(expr, sp.Pow):
            return self._pow(expr.base, expr.exp)
        code, depth = self._print(expr.args[0])
        return self._wrap(f"{self.functions[type(expr)]}({code})", depth + 1)

    def _add(self, expr: sp.Add) -> tuple[str, int]:
        terms = []  # (subtracted, code, depth)
        for arg in expr.args:
            if isinstance(arg, sp.Mul) or (isinstance(arg, sp.Pow) and _denominator(arg) is not None):
                terms.append(self._mul(arg))
            elif arg.is_Number and arg < 0:
                terms.append((True, _literal(-_float(arg)), 0))
            else:
                terms.append((False, *self._print(arg)))
        while len(terms) > _MAX_CHAIN:  # sum chunks into temporaries (Python's compiler recursion)
            terms = [(False, *self._hoist(_join_terms(terms[k:k + _MAX_CHAIN])[0]))
                     for k in range(0, len(terms), _MAX_CHAIN)]
        return self._wrap(*_join_terms(terms))

    def _mul(self, expr: sp.Expr, signed: bool = False) -> tuple[bool, str, int]:
        """(negative, code, depth): `c*a*b/(d*e)`, negative powers as divisors. The code is of the
        magnitude (a sum subtracts it) unless `signed`: then a sign goes into the coefficient
        (`(-0.1)*x`, one operation) or is a negation (`-x`)."""
        coeff, rest = expr.as_coeff_Mul() if isinstance(expr, sp.Mul) else (sp.Integer(1), expr)
        value = _float(coeff)
        numerator, denominator = [], []
        for factor in sp.Mul.make_args(rest):
            divisor = _denominator(factor)
            if divisor is not None:
                denominator.append(self._pow(*divisor) if divisor[1] != 1 else self._print(divisor[0]))
            else:
                numerator.append(self._print(factor))
        negate = signed and value == -1.0 and bool(numerator)
        if abs(value) != 1.0 or (not numerator and not denominator):
            numerator.insert(0, (_literal(value if signed else abs(value)), 0))
        if not numerator:  # 1/x: torch computes `1.0/x` as reciprocal(x)*1.0
            below, ddepth = self._product(denominator)
            code, depth = self._wrap(f"reciprocal({below})", ddepth + 1)
        elif denominator:
            code, depth = self._product(numerator)
            below, ddepth = self._product(denominator)
            code, depth = self._wrap(f"{code}/{below}", max(depth, ddepth))
        else:
            code, depth = self._product(numerator)
        if negate:
            code, depth = self._wrap(f"-{code}", depth)
        return value < 0, code, depth

    def _product(self, factors: list[tuple[str, int]]) -> tuple[str, int]:
        while len(factors) > _MAX_CHAIN:
            factors = [self._hoist("*".join(c for c, _ in factors[k:k + _MAX_CHAIN]))
                       for k in range(0, len(factors), _MAX_CHAIN)]
        if len(factors) == 1:
            return factors[0]
        return self._wrap("*".join(c for c, _ in factors), max(d for _, d in factors))

    def _pow(self, base: sp.Expr, exponent: sp.Expr) -> tuple[str, int]:
        code, depth = self._print(base)
        if exponent == sp.Rational(1, 2):
            return self._wrap(f"sqrt({code})", depth + 1)
        ecode, edepth = (str(int(exponent)), 0) if exponent.is_Integer else self._print(exponent)
        return self._wrap(f"pow({code}, {ecode})", max(depth, edepth) + 1)


def _denominator(factor: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(base, positive exponent) when `factor` is printed as a divisor: x**-k for integer k, x**-1/2."""
    if isinstance(factor, sp.Pow) and (factor.exp.is_Integer or factor.exp == sp.Rational(-1, 2)) and factor.exp < 0:
        return factor.base, -factor.exp
    return None


def _join_terms(terms: list[tuple[bool, str, int]]) -> tuple[str, int]:
    negative, code, depth = terms[0]
    pieces = [f"-{code}" if negative else code]
    pieces += [f" - {c}" if neg else f" + {c}" for neg, c, _ in terms[1:]]
    return "".join(pieces), max(d for _, _, d in terms)
