"""Report figures (matplotlib, PNG and SVG), each axis labelled with its unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._bundle import Results

STYLES = {"known only": ("tab:gray", ":"), "UDE": ("tab:orange", "--"), "discovered": ("tab:blue", "-")}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit and unit != "1" else name


def _save(fig, folder: Path, stem: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    files = []
    for ext in ("png", "svg"):
        fig.savefig(folder / f"{stem}.{ext}", dpi=120)
        files.append(f"{stem}.{ext}")
    _plt().close(fig)
    return files


def make_figures(r: Results, folder: Path) -> dict[str, str]:
    """Every figure the data allow; returns figure key -> PNG file name (an SVG lies beside it)."""
    out = {"resimulation": resimulation_figure(r, folder)}
    for state in r.residuals:
        out[f"residual_{state}"] = residual_figure(r, state, folder)
    for state in r.metrics.get("distillation", {}):
        out[f"pareto_{state}"] = pareto_figure(r, state, folder)
    if len(r.heldout.states) == 2:
        out["phase"] = phase_figure(r, folder)
    if r.loss_history.size:
        out["loss"] = loss_figure(r, folder)
    return out


def resimulation_figure(r: Results, folder: Path) -> str:
    return _save(resimulation_plot(r), folder, "resimulation")[0]


def resimulation_plot(r: Results):
    plt, data = _plt(), r.heldout
    n_states, n_traj = len(data.states), min(data.n_trajectories, 3)
    hidden = unrecorded_states(r)
    fig, axes = plt.subplots(n_states, n_traj, figsize=(4.5 * n_traj + 1.6, 2.6 * n_states), squeeze=False,
                             sharex=True)
    for j in range(n_traj):
        for i, state in enumerate(data.states):
            ax = axes[i, j]
            estimate = state in hidden
            ax.plot(data.t, data.y[j, :, i], ".", color="tab:gray" if estimate else "black", ms=2,
                    label="estimate (not recorded)" if estimate else "held-out data")
            for name, pred in r.predictions.items():
                color, ls = STYLES.get(name, (None, "-"))
                ax.plot(data.t, pred[j, :, i], ls, color=color, lw=1.3, label=name)
            ax.set_ylabel(_label(state, r.known.units.get(state, "")))
            if i == 0:
                ax.set_title(f"held-out trajectory {j + 1}")
        axes[-1, j].set_xlabel(_label("t", r.known.time_unit))
    # right of the last column, clear of the traces: the first row's, and a hidden state's row (its dots are
    # not data)
    shown = None
    for ax in axes[:, -1]:
        labels = ax.get_legend_handles_labels()[1]
        if labels != shown:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
            shown = labels
    return fig


def unrecorded_states(r: Results) -> list[str]:
    """States of the held-out data no model is scored on: hidden states, whose values in the folder
    are the UDE's estimate, not a recording."""
    scored = {s for per in r.metrics.get("heldout", {}).values() for s in per}
    return [s for s in r.heldout.states if scored and s not in scored]


def residual_figure(r: Results, state: str, folder: Path) -> str:
    plt, res = _plt(), r.residuals[state]
    unit = _rate_unit(r, state)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.2))
    # the direct route has no network: what it distilled is the data's smoothed derivative
    source = "data derivative" if r.distilled_from_data else "learned"
    a.plot(res["t"], res["learned"], color="tab:orange", lw=1.5,
           label="smoothed data derivative - known part" if r.distilled_from_data else "learned (network)")
    a.plot(res["t"], res["distilled"], "--", color="tab:blue", lw=1.3, label="distilled (closed form)")
    a.set_xlabel(_label("t", r.known.time_unit))
    a.set_ylabel(_label(f"residual of d{state}/dt", unit))
    a.set_title("along training trajectory 1")
    a.legend(fontsize=7)
    b.plot(res["learned"], res["distilled"], ".", ms=2, color="tab:blue")
    lo, hi = np.nanmin(res["learned"]), np.nanmax(res["learned"])
    b.plot([lo, hi], [lo, hi], color="black", lw=0.8, label="identity")
    b.set_xlabel(_label(source, unit))
    b.set_ylabel(_label("distilled", unit))
    b.legend(fontsize=7)
    return _save(fig, folder, f"residual_{state}")[0]


def pareto_figure(r: Results, state: str, folder: Path) -> str:
    return _save(pareto_plot(pareto_data(r.metrics["distillation"][state]), state), folder, f"pareto_{state}")[0]


def pareto_data(record) -> dict:
    """What the choice rule saw for one state (a metrics.json `distillation` record): `points`
    (complexity, score, source) of every scored candidate, `front` (complexity, score) of those no
    other beats in both, by complexity; `chosen` (complexity, score) or None; `threshold`, `score_name`.
    Candidates without a finite score (not scored alone) are left out."""
    from ..choose import nondominated

    scored = record["scored"] if "scored" in record else record["front"]  # older folders: "front" was the scored list
    scores = [np.nan if c.get("score") is None else float(c["score"]) for c in scored]
    complexity = [c["complexity"] for c in scored]
    finite = [k for k, s in enumerate(scores) if np.isfinite(s)]
    chosen = next((k for k in finite if scored[k]["expression"] == record["chosen"]), None)
    return {
        "points": [(complexity[k], scores[k], scored[k]["source"]) for k in finite],
        "front": [(complexity[k], scores[k]) for k in nondominated(complexity, scores)],
        "chosen": None if chosen is None else (complexity[chosen], scores[chosen]),
        "threshold": record.get("threshold"), "score_name": record.get("score_name") or _score_name(record, scored),
    }


def _score_name(record, scored) -> str:
    """What the scores of a record without `score_name` were (an older folder, or a latent one): its
    reason says, or they are the candidates' residual errors."""
    names = ("held-out window re-simulation error", "window re-simulation error", "held-out residual error")
    named = next((name for name in names if name in record.get("reason", "")), None)
    if named is None and all(c.get("score") == c.get("heldout_residual_error") for c in scored):
        named = "held-out residual error"
    return f"{named} (MSE / variance)" if named == "held-out residual error" else named or "score"


def pareto_plot(data: dict, state: str):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colors = {"sparse": "tab:green", "symbolic": "tab:purple"}
    for backend in dict.fromkeys(source.split(" ")[0] for _, _, source in data["points"]):  # in order
        pts = [(c, s) for c, s, source in data["points"] if source.split(" ")[0] == backend]
        ax.plot(*zip(*pts, strict=True), "o", color=colors.get(backend, "tab:gray"), alpha=0.5, ms=4,
                label=f"{backend} candidates")
    if data["front"]:
        ax.plot(*zip(*data["front"], strict=True), "-", color="black", lw=1, drawstyle="steps-post",
                label="non-dominated front")
    if data["threshold"] is not None:
        ax.axhline(data["threshold"], color="tab:red", lw=0.8, ls="--", label="choice threshold")
    if data["chosen"] is not None:
        ax.plot(*data["chosen"], "*", color="red", ms=14, label="chosen")
    values = [s for _, s, _ in data["points"]]
    if values and min(values) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("complexity (expression-tree nodes)")
    ax.set_ylabel(data["score_name"])
    ax.set_title(f"scored candidates for d{state}/dt")
    ax.legend(fontsize=7)
    return fig


def phase_figure(r: Results, folder: Path) -> str:
    plt, data = _plt(), r.heldout
    fig, ax = plt.subplots(figsize=(5, 4.2))
    for j in range(min(data.n_trajectories, 3)):
        ax.plot(data.y[j, :, 0], data.y[j, :, 1], ".", color="black", ms=1.5, label="held-out data" if j == 0 else None)
        for name, pred in r.predictions.items():
            color, ls = STYLES.get(name, (None, "-"))
            ax.plot(pred[j, :, 0], pred[j, :, 1], ls, color=color, lw=1, label=name if j == 0 else None)
    x, y = data.states
    ax.set_xlabel(_label(x, r.known.units.get(x, "")))
    ax.set_ylabel(_label(y, r.known.units.get(y, "")))
    ax.set_title("phase portrait (held-out)")
    ax.legend(fontsize=7)
    return _save(fig, folder, "phase")[0]


def loss_figure(r: Results, folder: Path) -> str:
    return _save(loss_plot(r), folder, "loss")[0]


def loss_plot(r: Results):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    plot = ax.semilogy if np.all(r.loss_history > 0) else ax.plot  # a loss may be a likelihood up to a constant
    plot(np.arange(1, r.loss_history.size + 1), r.loss_history, color="tab:orange", lw=1)
    if "latent" in r.metrics:  # a latent results folder: the sequential autoencoder's Poisson loss
        ax.set_xlabel("Adam step")
        ax.set_ylabel("Poisson deviance / 2 per bin and neuron")
        ax.set_title("latent ODE training")
    else:
        ax.set_xlabel("iteration (L-BFGS: loss evaluations)" if r.loss_phases else
                      "iteration (derivative pre-fit, Adam, then L-BFGS)")
        ax.set_ylabel("training loss (scaled MSE)")
        ax.set_title("UDE training")
    mark_phases(ax, r.loss_phases)
    return fig


def mark_phases(ax, phases) -> None:
    """A line where each phase begins (between its first loss, at iteration `start` + 1, and the one
    before), named on a top axis: outside the plot, so no name covers the loss."""
    if not phases:
        return
    for _, start in phases:
        if start > 0:
            ax.axvline(start + 0.5, color="gray", lw=0.8, ls=":")
    top = ax.secondary_xaxis("top")
    top.set_xticks([start + 0.5 for _, start in phases], labels=[name for name, _ in phases], fontsize=7)


def _rate_unit(r: Results, state: str) -> str:
    unit, time_unit = r.known.units.get(state, ""), r.known.time_unit
    if (not unit or unit == "1") and time_unit in ("", "1"):
        return ""
    return f"{unit or '1'}/{time_unit}"
