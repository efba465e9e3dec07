import sympy as sp

from discover.report import equations_text
from discover.report._latex import equations_latex
from tests.helpers import fhn_known


def _closed():
    known = fhn_known()
    v = known.symbol("v")
    return known, known.replace_residuals({"v": v - v**3 / 3}, how="test")


def test_latex_marks_discovered_terms():
    known, closed = _closed()
    tex = equations_latex(closed, known)
    assert r"\underbrace{- \frac{v^{3}}{3} + v}_{\text{discovered}}" in tex
    assert r"\frac{\mathrm{d}w}{\mathrm{d}t} &= \frac{a - b w + v}{\tau}" in tex


def test_text_brackets_discovered_terms():
    known, closed = _closed()
    assert equations_text(closed, known).splitlines()[0] == "dv/dt = I - w + [-v**3/3 + v]"
    assert sp.sstr(closed.rhs[1]) in equations_text(closed)
