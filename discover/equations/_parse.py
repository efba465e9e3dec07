"""Whitelist parser for equation text: ast in, sympy out, nothing ever evaluated.

User text (config files, the CLI, saved results) never reaches `eval`, `sympify` or
`parse_expr`: those execute Python. We walk Python's syntax tree ourselves and build sympy
objects from an explicit list of allowed node types, names and functions.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable, Mapping

import sympy as sp

from .._errors import EquationError, NonFiniteNumberError, did_you_mean, sentence
from ._functions import exprel


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


FUNCTIONS: Mapping[str, Callable[..., sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "sin": sp.sin,
    "cos": sp.cos,
    "abs": sp.Abs,
    "sigmoid": _sigmoid,
    "pow": sp.Pow,
    "exprel": exprel,
}
_ARITY = {"pow": 2}
_CONSTANTS = {"pi": sp.pi}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_MAX_LENGTH = 10_000
# Nesting deeper than this is not an equation anyone writes by hand, and sympy's and Python's recursion would
# fail on it with a RecursionError; chains of one operator (a + b + c ..., v*v*v ..., ---v) count as one level.
_MAX_DEPTH = 100
# A number folded from constants (9**9**9**9) must stay within float range: sympy would otherwise compute an
# exact integer of billions of digits and hang.
_MAX_LOG10 = 308.0
_CHAINS = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))
_DERIVATIVE = re.compile(r"^\s*d\s*([A-Za-z_][A-Za-z_0-9]*)\s*/\s*dt\s*$")


def parse_expression(
    text: str,
    names: Iterable[str],
    functions: Mapping[str, Callable[..., sp.Expr]] | None = None,
) -> sp.Expr:
    """Parse `text` into a sympy expression using only declared `names`.

    **Arguments:**
    - `text`: an arithmetic expression such as `"v - v**3/3 - w + I"` (`^` is read as `**`).
    - `names`: the allowed symbol names (states, inputs, parameters).
    - `functions`: extra allowed calls (name -> sympy callable), e.g. residual placeholders.

    Raises `EquationError` quoting the offending piece for anything outside the whitelist.
    """
    if not isinstance(text, str):
        raise EquationError(f"expected an expression as text, got {type(text).__name__}: {text!r}")
    if len(text) > _MAX_LENGTH:
        raise EquationError(f"expression is {len(text)} characters long; the limit is {_MAX_LENGTH}.")
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise EquationError(f"cannot parse expression {_short(text)!r}: {exc.msg.rstrip('.')}.") from None
    except (RecursionError, MemoryError):
        # CPython's own parser recurses once per operator of a chain (~3000 of them overflow it)
        raise EquationError(
            f"expression {_short(text)!r} is too deeply nested for the parser (thousands of chained operators, "
            "parentheses or signs); write it with fewer, e.g. v**3000 instead of v*v*...*v."
        ) from None
    if _depth(tree.body) > _MAX_DEPTH:
        raise EquationError(_too_deep(text))
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    allowed_functions = {**FUNCTIONS, **(functions or {})}
    expr = _Builder(source.strip(), symbols, allowed_functions).build(tree.body)
    _check_finite(expr, text)
    return expr


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _too_deep(text: str) -> str:
    return (
        f"expression {_short(text)!r} is nested more than {_MAX_DEPTH} levels deep; "
        "write it with fewer nested parentheses, calls or powers."
    )


def _chain(node: ast.AST) -> tuple[type, ...] | None:
    """The operator family a node chains with (+/-, */÷, unary signs), or None."""
    if isinstance(node, ast.BinOp):
        return next((family for family in _CHAINS if isinstance(node.op, family)), None)
    if isinstance(node, ast.UnaryOp):
        return (ast.UAdd, ast.USub)
    return None


def _depth(root: ast.AST) -> int:
    """Nesting depth, iteratively (no recursion to overflow), a chain of one operator family counting once."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > _MAX_DEPTH:
            return deepest
        family = _chain(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.operator, ast.unaryop, ast.expr_context)):
                continue
            same = family is not None and _chain(child) == family
            stack.append((child, depth if same else depth + 1))
    return deepest


def _check_finite(expr: sp.Expr, text: str) -> None:
    """Refuse infinities and NaN (1e999, 1/0) where the text is read, not as a training divergence later."""
    bad = expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or any(
        not math.isfinite(float(f)) for f in expr.atoms(sp.Float)
    )
    if bad:
        raise NonFiniteNumberError(
            f"expression {_short(text)!r} holds a number that is not finite (inf or NaN, e.g. 1e999 or 1/0); "
            "write finite constants."
        )


def parse_equation(
    text: str,
    names: Iterable[str],
    functions: Mapping[str, Callable[..., sp.Expr]] | None = None,
) -> tuple[str, sp.Expr]:
    """Parse `"dx/dt = rhs"` into `(x, rhs)`; see `parse_expression` for the rules."""
    if not isinstance(text, str) or text.count("=") != 1:
        raise EquationError(
            f"expected one equation of the form 'dx/dt = expression', got {text!r}."
        )
    lhs, rhs = text.split("=")
    match = _DERIVATIVE.match(lhs)
    if match is None:
        raise EquationError(
            f"left-hand side {lhs.strip()!r} of {text!r} is not a time derivative; write it as 'dx/dt'."
        )
    try:
        return match.group(1), parse_expression(rhs, names, functions)
    except EquationError as exc:
        raise EquationError(f"in the equation for d{match.group(1)}/dt: {exc}") from None


def _too_large(base: sp.Expr, exponent: sp.Expr) -> bool:
    """Whether base**exponent (numbers) would leave float range, judged from logarithms before computing it."""
    try:
        b, e = complex(sp.N(base, 15)), complex(sp.N(exponent, 15))
    except (TypeError, ValueError, OverflowError):
        return True
    if abs(b) == 0 or abs(b) == 1:
        return False
    return abs(e.real) * abs(math.log10(abs(b))) > _MAX_LOG10


class _Builder:
    def __init__(self, source: str, symbols: Mapping[str, sp.Symbol], functions: Mapping) -> None:
        self.source = source
        self.symbols = symbols
        self.functions = functions

    def _reject(self, node: ast.AST, why: str) -> EquationError:
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        return EquationError(sentence(f"`{piece}` in {self.source!r}: {why}"))  # `why` may end a sentence

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._binop_chain(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            negative = False
            while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
                negative ^= isinstance(node.op, ast.USub)
                node = node.operand
            operand = self.build(node)
            return -operand if negative else operand
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._reject(node, f"{type(node).__name__} is not allowed in an equation")

    def _binop_chain(self, chain: ast.BinOp) -> sp.Expr:
        """A left-leaning chain of one operator family (a - b + c ..., v*v/w ...), built without recursion."""
        family = _chain(chain)
        right_operands = []
        node: ast.expr = chain
        while isinstance(node, ast.BinOp) and _chain(node) == family:
            right_operands.append((node.op, node.right))
            node = node.left
        result = self.build(node)
        for op, right in reversed(right_operands):
            result = _BINOPS[type(op)](result, self.build(right))
        return result

    def _power(self, node: ast.BinOp) -> sp.Expr:
        base, exponent = self.build(node.left), self.build(node.right)
        if base.is_number and exponent.is_number and _too_large(base, exponent):
            raise self._reject(
                node, f"a constant power outside floating-point range (beyond 1e±{int(_MAX_LOG10)})"
            )
        return base**exponent

    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._reject(node, "only numbers are allowed as constants")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._reject(node, "a number that is not finite (write a finite constant)")
        if isinstance(value, int) and value.bit_length() > 1024:
            raise self._reject(node, f"a constant larger than 1e{int(_MAX_LOG10)} (outside floating-point range)")
        return sp.Integer(value) if isinstance(value, int) else sp.Float(value)

    def _name(self, node: ast.Name) -> sp.Expr:
        if node.id in self.symbols:
            return self.symbols[node.id]
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        hint = did_you_mean(node.id, [*self.symbols, *_CONSTANTS])
        declared = ", ".join(sorted(self.symbols)) or "none"
        raise self._reject(
            node, f"unknown name `{node.id}` (declared: {declared}); declare it as a state, input or parameter.{hint}"
        )

    def _call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in self.functions:
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            hint = did_you_mean(name, self.functions) if name else ""
            allowed = ", ".join(sorted(self.functions))
            raise self._reject(node, f"call to an unknown function (allowed: {allowed}){hint}")
        if node.keywords:
            raise self._reject(node, "keyword arguments are not allowed")
        arity = _ARITY.get(node.func.id, None)
        if arity is not None and len(node.args) != arity:
            raise self._reject(node, f"`{node.func.id}` takes {arity} arguments")
        args = [self.build(a) for a in node.args]
        try:
            return self.functions[node.func.id](*args)
        except TypeError as exc:
            raise self._reject(node, f"wrong arguments to `{node.func.id}` ({exc})") from None
