"""LaTeX model summary from an `EquationSystem` (discovered terms marked), with booktabs tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from ..equations import EquationSystem

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """Plain text made safe for LaTeX (user descriptions, model names, file names)."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _latex(expr: sp.Expr) -> str:
    return sp.latex(expr, full_prec=False)


def unit_latex(unit: str) -> str:
    """'mV' -> \\mathrm{mV}; dimensionless ('1' or empty) -> an en dash."""
    return "--" if unit in ("", "1") else rf"$\mathrm{{{escape(unit)}}}$"


def equations_latex(system: EquationSystem, known: EquationSystem | None = None) -> str:
    """An `align` block; discovered terms sit under an underbrace labelled 'discovered'."""
    base = known.without_residuals() if known is not None else None
    rows = []
    for i, state in enumerate(system.states):
        lhs = rf"\frac{{\mathrm{{d}}{sp.latex(sp.Symbol(state))}}}{{\mathrm{{d}}t}}"
        if base is not None and state in system.discovered:
            known_part = "" if base.rhs[i] == 0 else rf"{_latex(base.rhs[i])} + "
            rhs = rf"{known_part}\underbrace{{{_latex(system.discovered[state])}}}_{{\text{{discovered}}}}"
        else:
            rhs = _latex(system.rhs[i])
        rows.append(f"{lhs} &= {rhs}")
    if system.spike is not None:
        r, v = system.spike, sp.latex(sp.Symbol(system.spike.state))
        watched = sp.latex(sp.Symbol(r.watched))
        unit = rf"\,\mathrm{{{escape(system.time_unit)}}}" if system.time_unit not in ("", "1") else ""
        also = "".join(rf",\ {sp.latex(sp.Symbol(n))} \leftarrow {x:g}" for n, x in r.also)
        also += "".join(rf",\ {sp.latex(sp.Symbol(n))} \leftarrow {sp.latex(sp.Symbol(n))} + {x:g}" for n, x in r.add)
        threshold = f"{r.threshold:g}" + "".join(rf" {'-' if c < 0 else '+'} {abs(c):g}\,{sp.latex(sp.Symbol(n))}"
                                                 for n, c in r.moving)
        rows.append(rf"&\text{{spike when }} {watched} \geq {threshold}:\ {v} \leftarrow {r.reset:.4g}{also}"
                    rf"\text{{ for }} {r.refractory:.3g}{unit}")
    return "\\begin{align}\n" + " \\\\\n".join(rows) + "\n\\end{align}\n"


def parameter_table(system: EquationSystem) -> str:
    rows = "\n".join(
        rf"${sp.latex(sp.Symbol(p.name))}$ & {p.value:g} & {unit_latex(p.unit)} & {escape(p.description)} \\"
        for p in system.parameters
    )
    return (
        "\\begin{tabular}{lrll}\n\\toprule\nParameter & Value & Unit & Meaning \\\\\n\\midrule\n"
        + rows + "\n\\bottomrule\n\\end{tabular}\n"
    )


def metrics_latex(metrics: Mapping[str, Mapping[str, Mapping[str, float]]], columns: Sequence[tuple]) -> str:
    """Model x state table of held-out metrics; `columns` are (key, header, format)."""
    head = " & ".join(["Model", "State", *(h for _, h, _ in columns)])  # headers are ours, already LaTeX
    rows = []
    for model, per_state in metrics.items():
        for state, m in per_state.items():
            cells = [format(m[k], f).replace("%", r"\%") if k in m else "--" for k, _, f in columns]
            rows.append(" & ".join([escape(model), f"${sp.latex(sp.Symbol(state))}$", *cells]) + r" \\")
    spec = "ll" + "r" * len(columns)
    return (f"\\begin{{tabular}}{{{spec}}}\n\\toprule\n{head} \\\\\n\\midrule\n" + "\n".join(rows)
            + "\n\\bottomrule\n\\end{tabular}\n")


def document_latex(
    system: EquationSystem, known: EquationSystem | None = None, *, metrics: Mapping | None = None,
    columns: Sequence[tuple] = (), figures: Sequence[tuple[str, str]] = (), notes: Sequence[str] = (),
) -> str:
    """A standalone document (pdflatex, booktabs): equations, parameters, held-out metrics, figures."""
    parts = [
        "\\documentclass[11pt]{article}\n\\usepackage[margin=2cm]{geometry}\n\\usepackage{amsmath}\n"
        "\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\begin{document}\n",
        f"\\section*{{Model: {escape(system.name.replace('_', ' '))}}}\n",
        equations_latex(system, known),
    ]
    if system.parameters:
        parts.append("\\subsection*{Parameters}\n" + parameter_table(system))
    if metrics:
        parts.append("\\subsection*{Re-simulation of held-out data}\n" + metrics_latex(metrics, columns))
    for note in notes:
        parts.append(f"\\paragraph{{Note.}} {escape(note)}\n")
    for path, caption in figures:
        parts.append(
            "\\begin{figure}[h]\n\\centering\n"
            f"\\includegraphics[width=\\linewidth,height=0.4\\textheight,keepaspectratio]{{{path}}}\n"
            f"\\caption{{{escape(caption)}}}\n\\end{{figure}}\n"
        )
    parts.append("\\end{document}\n")
    return "".join(parts)
