"""Latent-dynamics benchmark: recover firing rates and the latent equations from Poisson spike counts.

    python benchmarks/latent.py                                  # Lorenz (3-D) and FitzHugh-Nagumo (2-D)
    python benchmarks/latent.py --systems lorenz --neurons 100
    python benchmarks/latent.py --write benchmarks/RESULTS.md    # replaces this benchmark's section
    python benchmarks/latent.py --save fits/ ...; python benchmarks/latent.py --load fits/   # distil saved fits again

A latent system is simulated, cut into trials that start on its attractor, and observed only through
Poisson neurons with a random linear-exponential readout (`discover.latent.population_from_system`).
`LatentODE` (GRU encoder -> neural ODE -> exp readout, Poisson likelihood) is fitted at the true
latent dimension; its inferred latents are aligned to the true ones by least squares (an affine map:
latents are identifiable only up to one), and the learned field, in that frame, is distilled by
sparse regression (polynomials to degree 2, 3 for FitzHugh-Nagumo; the simplest candidate that no
denser one beats by more than 1.25x per extra term), then those terms are refit through the counts'
Poisson likelihood with sequential thresholding (`refit_latent_equations`). Reported: R^2 of the
fitted against the true rates (every trial, bin and neuron), the alignment's R^2 (worst latent
coordinate), the true terms found and the spurious ones. Success for Lorenz (issue 11): rates R^2 >
0.9, all 7 terms, at most 2 spurious.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import sympy as sp
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from missing_terms import machine, write_section  # noqa: E402

from discover import FitError  # noqa: E402
from discover.equations import compile_numpy  # noqa: E402
from discover.latent import (  # noqa: E402
    LatentODE,
    SequentialAutoencoder,
    affine_align,
    distill_latent_field,
    fitzhugh_nagumo_population,
    lorenz,
    lorenz_population,
    rate_r2,
    refit_latent_equations,
)
from discover.models import fitzhugh_nagumo  # noqa: E402

SECTION = "# Latent-dynamics benchmark (`python benchmarks/latent.py`)"
# Every trial in each step: Lorenz's x and y move together on the attractor, and the y - x its
# dx/dt depends on is a small direction that 64-trial batches left unresolved. FitzHugh-Nagumo's fit
# sits at the mean-rate likelihood for hundreds of steps before its latents carry anything; at
# learning rate 1e-2 it escaped late or not at all (rates R² 0.269 and -0.051 in two runs at
# 3000 steps), at 3e-3 it reached 0.989 in 1000 steps (with the readout started at the mean rates,
# 0.777 at 1e-2); Lorenz at 3e-3 was worse (0.933 against 0.978 in 1000 steps).
SYSTEMS = {  # name: (data, latent dim, data keywords, LatentODE keywords, true system, its inputs)
    "lorenz": (lorenz_population, 3, {"dt": 0.01}, {"batch_size": 400}, lorenz, {}),
    "fitzhugh_nagumo": (fitzhugh_nagumo_population, 2, {"dt": 0.5}, {"batch_size": 400, "learning_rate": 3e-3},
                        fitzhugh_nagumo, {"I": 0.5}),
}
# Adam steps: Lorenz's learned field, against the true one at the aligned states, had R² 0.971 / 0.983 /
# 0.995 (x, y, z) after 3000 steps and 0.996 / 0.996 / 0.998 after 8000; at 3000 dy/dt's -y explained
# 1.5 % of what the two-term fit left, at 8000 29 %: the network had not yet learned it.
ITERATIONS = {"lorenz": 8000, "fitzhugh_nagumo": 3000}
TRUE_TERMS = {  # terms of the true equations, as products of states (constants dropped)
    "lorenz": {"x": {"x", "y"}, "y": {"x", "x*z", "y"}, "z": {"x*y", "z"}},
    "fitzhugh_nagumo": {"v": {"v", "v**3", "w", "1"}, "w": {"v", "w", "1"}},
}


def run(name: str, neurons: int, trials: int, bins: int, iterations: int | None, seed: int, save: str | None = None,
        load: str | None = None) -> dict:
    make, dim, extra, settings, truth, inputs = SYSTEMS[name]
    iterations = iterations or ITERATIONS[name]
    start = time.perf_counter()
    data = make(n_neurons=neurons, n_trials=trials, n_bins=bins, seed=seed, **extra)
    model = LatentODE(dim, iterations=iterations, seed=seed, progress=False, **settings)
    if load:  # a fit saved by --save with these settings: distil it again without training
        model = _load(model, data, Path(load), name, (neurons, trials, bins, iterations, seed))
        start -= model.fit_seconds_
    else:
        model.fit(data)
    if save:  # tensors only, read back with torch.load(..., weights_only=True)
        Path(save).mkdir(parents=True, exist_ok=True)
        torch.save(model.model_.state_dict(), Path(save) / f"{name}.pt")
        (Path(save) / f"{name}.json").write_text(json.dumps({"settings": [neurons, trials, bins, iterations, seed],
                                                             "fit_seconds": model.fit_seconds_, "fitted": machine()}))
    alignment = affine_align(model.transform(data), data.latents)
    degree = 3 if name == "fitzhugh_nagumo" else 2
    system, _ = distill_latent_field(model, data, alignment, data.latent_names, {"degree": degree})
    row = {"system": name, "dim": dim, "neurons": neurons, "trials": trials, "bins": bins, "iterations": iterations,
           "rate_r2": rate_r2(model.predict_rates(data), data.rates), "align_r2": float(alignment.r2.min()),
           "field_r2": field_r2(model, data, alignment, truth(), inputs), "distilled": score(name, system.discovered),
           "batch": min(model.batch_size, trials), "lr": model.learning_rate,
           "fitted": getattr(model, "fitted_on_", "in this run")}
    try:  # the distilled terms, refit through the counts' likelihood with sequential thresholding
        row["refit"] = score(name, refit_latent_equations(model, data, alignment, system, degree=degree, seed=seed))
    except FitError as exc:
        row["refit"] = {"terms": "diverged", "spurious": "", "found": {}, "error": str(exc)}
    return {**row, "seconds": time.perf_counter() - start}


def _load(model: LatentODE, data, folder: Path, name: str, settings: tuple) -> LatentODE:
    record = json.loads((folder / f"{name}.json").read_text())
    if tuple(record["settings"]) != settings:
        sys.exit(f"--load {folder}: {name} was fitted with (neurons, trials, bins, iterations, seed) = "
                 f"{tuple(record['settings'])}, not {settings}; pass the same options.")
    net = SequentialAutoencoder(data.n_neurons, model.latent_dim, model.hidden)
    net.load_state_dict(torch.load(folder / f"{name}.pt", weights_only=True))
    model.model_, model.fit_seconds_ = net.eval(), float(record["fit_seconds"])
    model.fitted_on_ = record.get("fitted", "unrecorded")
    return model


def field_r2(model: LatentODE, data, alignment, truth, inputs: dict) -> dict[str, float]:
    """Per state, R² of the learned field in the aligned frame against the true field at the same
    (aligned) states: what sparse regression of that field can at best recover."""
    z = model.transform(data).reshape(-1, model.model_.readout.in_features)
    x, learned = alignment.apply(z), alignment.velocity(model.field(z))
    true = compile_numpy(truth)(x, np.array([[inputs[i] for i in truth.inputs]] * len(x)).reshape(len(x), -1))
    r2 = 1.0 - ((learned - true) ** 2).sum(0) / ((true - true.mean(0)) ** 2).sum(0)
    return dict(zip(truth.states, r2.round(3).tolist(), strict=True))


def score(name: str, equations: dict) -> dict:
    """True terms found (of all) and spurious ones, comparing expanded terms as products of states."""
    missing = spurious = 0
    for state, true in TRUE_TERMS[name].items():
        terms = {sp.sstr(t) for t in sp.expand(equations[state]).as_coefficients_dict()}
        missing += len(true - terms)
        spurious += len(terms - true)
    n_true = sum(len(t) for t in TRUE_TERMS[name].values())
    return {"terms": f"{n_true - missing}/{n_true}", "spurious": spurious,
            "found": {s: sp.sstr(e) for s, e in equations.items()}}


def table(rows: list[dict]) -> str:
    lines = ["| system | latent dim | neurons | trials x bins | iterations x batch, learning rate | rate R² | "
             "alignment R² (worst) | distilled: true terms | spurious | refit: true terms | spurious | time (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['system']} | {r['dim']} | {r['neurons']} | {r['trials']} x {r['bins']} | "
              f"{r['iterations']} x {r['batch']}, {r['lr']:g} | "
              f"{r['rate_r2']:.3f} | {r['align_r2']:.3f} | {r['distilled']['terms']} | {r['distilled']['spurious']} | "
              f"{r['refit']['terms']} | {r['refit']['spurious']} | {r['seconds']:.0f} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--bins", type=int, default=50)
    parser.add_argument("--iterations", type=int, help=f"Adam steps (default: {ITERATIONS})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save", help="also save each fitted model's weights into this folder")
    parser.add_argument("--load", help="distil the fits --save wrote there (same options) instead of training; "
                                       "the time column then adds the saved fit's seconds")
    parser.add_argument("--write", help="also write the table into this Markdown file (replacing its own section)")
    args = parser.parse_args()
    header = machine()  # the commit the runs start from
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run, args.systems, *([x] * len(args.systems) for x in (
            args.neurons, args.trials, args.bins, args.iterations, args.seed, args.save, args.load))))
    text = table(rows)
    fields = "\n".join(f"- {r['system']}, learned field against the true one at the aligned states, R² per state: "
                       + ", ".join(f"d{s}/dt {v:.3f}" for s, v in r["field_r2"].items()) for r in rows)
    found = fields + "\n" + "\n".join(
        f"- {r['system']}, {stage}: "
        + ("; ".join(f"d{s}/dt = `{e}`" for s, e in r[stage]["found"].items()) or r[stage].get("error", ""))
        for r in rows for stage in ("distilled", "refit"))
    print(text, found, sep="\n\n")
    if args.write:
        command = "python benchmarks/latent.py " + " ".join(sys.argv[1:])
        fitted = "".join(f"\n\nFitted ({r['system']}): {r['fitted']}" for r in rows if args.load)
        write_section(Path(args.write), f"{SECTION}\n\nCommand: `{command}`"
                      f"\n\nMachine: {header}{fitted}\n\n{__doc__.split(chr(10) * 2, 2)[2].strip()}\n\n## Results\n\n"
                      f"{text}\n\n## What was found\n\n{found}\n")


if __name__ == "__main__":
    main()
