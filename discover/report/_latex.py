"""LaTeX model summary from an `EquationSystem` (discovered terms marked)."""

from __future__ import annotations

import sympy as sp

from ..equations import EquationSystem


def _latex(expr: sp.Expr) -> str:
    return sp.latex(expr, full_prec=False)


def equations_latex(system: EquationSystem, known: EquationSystem | None = None) -> str:
    """An `align` block; discovered terms sit under an underbrace labelled 'discovered'."""
    base = known.without_residuals() if known is not None else None
    rows = []
    for i, state in enumerate(system.states):
        lhs = rf"\frac{{\mathrm{{d}}{sp.latex(sp.Symbol(state))}}}{{\mathrm{{d}}t}}"
        if base is not None and state in system.discovered:
            rhs = rf"{_latex(base.rhs[i])} + \underbrace{{{_latex(system.discovered[state])}}}_{{\text{{discovered}}}}"
        else:
            rhs = _latex(system.rhs[i])
        rows.append(f"{lhs} &= {rhs}")
    return "\\begin{align}\n" + " \\\\\n".join(rows) + "\n\\end{align}\n"


def document_latex(system: EquationSystem, known: EquationSystem | None = None) -> str:
    """A standalone LaTeX document: the equations and a parameter table."""
    params = "\n".join(
        rf"{sp.latex(sp.Symbol(p.name))} & {p.value:g} & {p.unit} \\" for p in system.parameters
    )
    table = (
        "\\begin{tabular}{lrl}\nparameter & value & unit \\\\\n\\hline\n" + params + "\n\\end{tabular}\n"
        if system.parameters else ""
    )
    return (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        f"\\section*{{Model: {system.name.replace('_', ' ')}}}\n"
        + equations_latex(system, known) + table + "\\end{document}\n"
    )
