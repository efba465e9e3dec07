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
    plt, data = _plt(), r.heldout
    n_states, n_traj = len(data.states), min(data.n_trajectories, 3)
    hidden = unrecorded_states(r)
    fig, axes = plt.subplots(n_states, n_traj, figsize=(4.5 * n_traj, 2.6 * n_states), squeeze=False, sharex=True)
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
    for ax in axes[:, 0]:  # each row: a hidden state's row says its dots are not data
        ax.legend(fontsize=7, loc="upper right")
    return _save(fig, folder, "resimulation")[0]


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
    plt, record = _plt(), r.metrics["distillation"][state]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colors = {"sparse": "tab:green", "symbolic": "tab:purple"}
    for backend, color in colors.items():
        pts = [(c["complexity"], c["heldout_residual_error"]) for c in record["all_candidates"]
               if c["source"].startswith(backend)]
        if pts:
            ax.plot(*zip(*pts), "o", color=color, alpha=0.35, ms=4, label=f"{backend} candidates")
    front = [(c["complexity"], c["heldout_residual_error"]) for c in record["front"]]
    ax.plot(*zip(*front), "-", color="black", lw=1, drawstyle="steps-post", label="Pareto front")
    chosen = next((c for c in record["front"] if c["expression"] == record["chosen"]), None)
    if chosen is not None:
        ax.plot(chosen["complexity"], chosen["heldout_residual_error"], "*", color="red", ms=14, label="chosen")
    ax.set_yscale("log")
    ax.set_xlabel("complexity (expression-tree nodes)")
    ax.set_ylabel("held-out residual error (MSE / variance)")
    ax.set_title(f"candidates for d{state}/dt")
    ax.legend(fontsize=7)
    return _save(fig, folder, f"pareto_{state}")[0]


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
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    plot = ax.semilogy if np.all(r.loss_history > 0) else ax.plot  # a loss may be a likelihood up to a constant
    plot(np.arange(1, r.loss_history.size + 1), r.loss_history, color="tab:orange", lw=1)
    if "latent" in r.metrics:  # a latent results folder: the sequential autoencoder's Poisson loss
        ax.set_xlabel("Adam step")
        ax.set_ylabel("Poisson deviance / 2 per bin and neuron")
        ax.set_title("latent ODE training")
    else:
        ax.set_xlabel("iteration (derivative pre-fit, Adam, then L-BFGS)")
        ax.set_ylabel("training loss (scaled MSE)")
        ax.set_title("UDE training")
    return _save(fig, folder, "loss")[0]


def _rate_unit(r: Results, state: str) -> str:
    unit, time_unit = r.known.units.get(state, ""), r.known.time_unit
    if (not unit or unit == "1") and time_unit in ("", "1"):
        return ""
    return f"{unit or '1'}/{time_unit}"
