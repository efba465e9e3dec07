import pytest
import sympy as sp

from discover import EquationError
from discover.equations import parse_equation, parse_expression

v, w, I, a = sp.symbols("v w I a", real=True)
NAMES = ["v", "w", "I", "a"]


def test_parses_arithmetic_and_functions():
    expr = parse_expression("v - v**3/3 - w + I + exp(a*v) + sigmoid(w) + v^2", NAMES)
    expected = v - v**3 / 3 - w + I + sp.exp(a * v) + 1 / (1 + sp.exp(-w)) + v**2
    assert sp.simplify(expr - expected) == 0


def test_parses_equation_lhs():
    state, rhs = parse_equation("dv/dt = -w + I", NAMES)
    assert state == "v" and rhs == -w + I


@pytest.mark.parametrize(
    "text, quoted",
    [
        ("__import__('os').system('rm -rf /')", "__import__"),
        ("v.__class__", "v.__class__"),
        ("(lambda: 1)()", "lambda"),
        ("open('x')", "open('x')"),
        ("v if w else I", "v if w else I"),
        ("[v for v in w]", "[v for v in w]"),
        ("'text'", "'text'"),
        ("exp(v, base=2)", "exp(v, base=2)"),
        ("vv + w", "vv"),
        ("v[0]", "v[0]"),
        ("True", "True"),
    ],
)
def test_rejects_hostile_or_unknown_text_quoting_the_piece(text, quoted):
    with pytest.raises(EquationError) as info:
        parse_expression(text, NAMES)
    assert quoted in str(info.value)


def test_unknown_name_suggests_close_match():
    with pytest.raises(EquationError, match="Did you mean `w`"):
        parse_expression("v - ww", ["v", "w"])


def test_rejects_non_derivative_lhs_and_syntax_errors():
    with pytest.raises(EquationError, match="not a time derivative"):
        parse_equation("v = w", NAMES)
    with pytest.raises(EquationError, match="cannot parse"):
        parse_expression("v +* w", NAMES)
    with pytest.raises(EquationError, match="limit"):
        parse_expression("v+" * 6000 + "v", NAMES)
