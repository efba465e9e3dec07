"""Whitelist parser for equation text: ast in, sympy out, nothing ever evaluated.

User text (config files, the CLI, saved results) never reaches `eval`, `sympify` or
`parse_expr`: those execute Python. We walk Python's syntax tree ourselves and build sympy
objects from an explicit list of allowed node types, names and functions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

import sympy as sp

from .._errors import EquationError, did_you_mean
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
        raise EquationError(f"cannot parse expression {text!r}: {exc.msg}.") from None
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    allowed_functions = {**FUNCTIONS, **(functions or {})}
    return _Builder(source.strip(), symbols, allowed_functions).build(tree.body)


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
    return match.group(1), parse_expression(rhs, names, functions)


class _Builder:
    def __init__(self, source: str, symbols: Mapping[str, sp.Symbol], functions: Mapping) -> None:
        self.source = source
        self.symbols = symbols
        self.functions = functions

    def _reject(self, node: ast.AST, why: str) -> EquationError:
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        return EquationError(f"{why} in {self.source!r}: `{piece}`.")

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](self.build(node.left), self.build(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._reject(node, f"{type(node).__name__} is not allowed in an equation")

    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._reject(node, "only numbers are allowed as constants")
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
