"""The run-config schema: every section and key of a config file, with its type, default and meaning.

One source for two readers: `discover._config` takes the allowed keys of each section from here,
and the documentation's configuration reference is generated from it (`_reference.config_reference`),
so the checks and the docs cannot drift apart. Keys of `[training]`, `[distill.sparse]` and
`[distill.symbolic]` are the keyword arguments of `UDE`, `SparseDistiller` and `SymbolicDistiller`:
names and defaults come from their signatures, descriptions from here, and a test checks that the
two match.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from .data import example_data

_MISSING = object()


@dataclass(frozen=True)
class Key:
    """One config key. `default` is shown as TOML (left out: required, or computed from the data as the
    meaning says); `group` says which kind of run it belongs to where a section serves several
    (e.g. "recording")."""

    name: str
    type: str
    doc: str
    default: Any = _MISSING
    group: str = ""


@dataclass(frozen=True)
class Section:
    """A `[table]` of the config file."""

    name: str
    doc: str
    keys: tuple[Key, ...]

    def names(self, group: str | None = None) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys if group is None or k.group == group)


def _example(name: str) -> Any:
    """`example_data`'s default for `name`: the built-in data's keys are its keywords, defaults written once."""
    return inspect.signature(example_data).parameters[name].default


_DATA = Section("data", "Where the trajectories come from: exactly one of `example` or `path`.", (
    Key("example", "string", "Built-in simulated data: \"fitzhugh_nagumo\", or \"morris_lecar\" (current steps, for "
        "[gate]); see `discover.example_data`.", group="example"),
    Key("n_train", "integer", "Trajectories to train on (built-in data).", _example("n_train"), "example"),
    Key("n_heldout", "integer", "Trajectories from new initial conditions to validate on (built-in data).",
        _example("n_heldout"), "example"),
    Key("noise", "float", "Measurement noise, as a fraction of each state's standard deviation (built-in data).",
        _example("noise"), "example"),
    Key("seed", "integer", "Seed of the simulated initial conditions and noise (built-in data).", _example("seed"),
        "example"),
    Key("duration", "float", "Length of each simulated trajectory (built-in data; default 100 for "
        "fitzhugh_nagumo, 1000 ms for morris_lecar).", group="example"),
    Key("path", "string", "A data file, relative to the config file: saved `Trajectories` (.npz) or a "
        "recording (.nwb, .abf, .ibw, .csv, or a recording's .npz)."),
    Key("heldout_path", "string", "The held-out data in a second file. For saved `Trajectories` (.npz): its "
        "trajectories. For a recording: another recording of the same cell (any format, e.g. a chirp or noise "
        "protocol after training on steps); then `sweeps` selects in `path` (default: all), `heldout_sweeps` in "
        "`heldout_path` (default: all), `start`/`stop`, `units`, `time_unit` and `channel` apply to both, and its "
        "sweeps are resampled to the training rate (after `decimate`) by polyphase filtering "
        "(scipy.signal.resample_poly). Its signals must be the same quantities as the training file's (a voltage "
        "`V`, a current `I`); they are converted to the same units."),
    Key("heldout", "integer", "Without `heldout_path`: how many of the file's last trajectories to hold out.",
        1, "npz"),
    Key("sweeps", "list of integers or strings", "Recording sweeps to fit on (index or label); default: every "
        "sweep not held out (with `heldout_path`: every sweep of `path`). A sweep that ends in NaN padding ends "
        "there; sweeps of unequal length are cut to the shortest chosen, with a warning.", group="recording"),
    Key("heldout_sweeps", "list of integers or strings", "Recording sweeps to validate on; default: the last sweep "
        "not in `sweeps`. With `heldout_path`: sweeps of that file (default: all). A one-sweep recording needs "
        "`heldout_path`.", group="recording"),
    Key("start", "float", "Crop every sweep from this time (in the model's time unit, ms for a cell).",
        group="recording"),
    Key("stop", "float", "Crop every sweep up to this time.", group="recording"),
    Key("decimate", "integer", "Average blocks of this many samples (20 kHz with 2 gives 10 kHz).", 1,
        "recording"),
    Key("current", "string", "Igor .ibw only: the file holding the injected current.", group="recording"),
    Key("heldout_current", "string", "Igor .ibw `heldout_path` only: the file holding its injected current.",
        group="recording"),
    Key("channel", "integer", "ABF only: the channel that records the voltage.", 0, "recording"),
    Key("current_channel", "integer", "ABF only: the channel that records the injected current (default: the "
        "protocol's command waveform).", group="recording"),
    Key("units", "table", "Units of signals whose file does not say them, e.g. { V = \"mV\", I = \"pA\" }.",
        group="recording"),
    Key("time_unit", "string", "Time unit of a file that does not say it (\"s\", \"ms\").", group="recording"),
    Key("hidden", "list of strings", "States of the model the data do not record (e.g. [\"w\"]; dropped from the "
        "data if there): their equations must be fully known (no [residual]). Each trajectory's hidden start is "
        "learned with the networks; held-out data start from one fitted to their first two windows.", []),
))

_MODEL = Section("model", "The known dynamics: exactly one of `library`, `equations` or `states`.", (
    Key("library", "string", "A built-in model of `discover.models` (e.g. \"hodgkin_huxley\"); with `remove` "
        "and `parameters` only.", group="library"),
    Key("remove", "table", "Terms to remove from a library model, as text: { V = [\"g_K*n**4*(V - E_K)/C\"] }; "
        "either sign is accepted.", group="library"),
    Key("equations", "list of strings", "The known right-hand sides, \"dv/dt = -w + I\", parsed by a whitelist "
        "(numbers, declared names, + - * / ** and exp, log, sqrt, tanh, sin, cos, sigmoid, exprel...).",
        group="equations"),
    Key("states", "list of strings", "Nothing is known: the state names only; every right-hand side is learned.",
        group="states"),
    Key("inputs", "list of strings", "Input signals (e.g. injected current \"I\"), given in the data.", []),
    Key("parameters", "table", "Parameter values: a = 0.7, or a = { value = 0.7, unit = \"mV\", description = "
        "\"...\" }; with `library`, changes its defaults.", {}),
    Key("units", "table", "Units of states and inputs, Brian-style: { V = \"mV\", I = \"pA\" }.", {}),
    Key("time_unit", "string", "The unit of time (\"ms\", \"s\", or \"1\" for dimensionless models).", "1"),
    Key("name", "string", "The model's name in reports and exports.", "model"),
))

_RESIDUAL = Section("residual", "Which states get a learned neural-network term, and of what. Optional when "
                    "[model] gives `states` only (then every state gets one of everything).", (
    Key("<state>", "list of strings or \"all\"", "The features of that state's network, e.g. v = [\"v\", \"w\"]; "
        "\"all\" means every state and input."),
))

_CELL = Section("cell", "A current-clamp cell instead of [model] and [residual]. With model = \"gif\" (the "
                "default) a GIF-type model is discovered by regression: spikes found by their onset slope, reset and "
                "refractory period from the average spike, the membrane with spike-triggered currents, an escape-rate "
                "threshold with its jumps and its dependence on V, every time constant chosen on held-out blocks. With "
                "model = \"ude\" the passive membrane C dV/dt = -gL (V - EL) + I and a spike rule at `threshold` are "
                "estimated and a network of V learns the rest between spikes.", (
    Key("model", "string", "\"gif\" (regression, for noise or step protocols) or \"ude\" (a neural residual on "
        "the passive membrane; needs `threshold`). Default: \"ude\" when `threshold` (or another ude key) is set, "
        "else \"gif\"."),
    Key("electrode", "string", "gif: a subthreshold noise recording of the same cell (same [data] channels and units) "
        "for active electrode compensation (Badel et al. 2008); default: none."),
    Key("slope", "float", "gif: mV/ms, the dV/dt that marks a spike's onset; default: 20 % of the spikes' median peak "
        "dV/dt, at least 10."),
    Key("runs", "integer", "gif: stochastic (escape-noise) runs per held-out sweep for Md* and Gamma.", 100),
    Key("threshold", "float", "ude: mV, the model emits a spike and resets here (required for model = \"ude\")."),
    Key("reset", "float", "mV: the reset voltage; default: the median after-hyperpolarisation trough."),
    Key("refractory", "float", "ms: the refractory period; default: the median time from threshold to trough."),
    Key("features", "list of strings", "The residual's features: \"V\", \"s\" (time since the last spike), \"I\".",
        ["V"]),
    Key("adaptation", "boolean or float", "Add spike-triggered adaptation as a hidden state: true estimates its "
        "time constant, a number (ms) fixes it.", False),
))

_POPULATION = Section("population", "Population spike counts instead of [data], [model], [residual] and "
                      "[training]: latent dynamics are fitted by a neural-ODE sequential autoencoder ([latent]), "
                      "put in a frame, and their field distilled ([distill.sparse]). Exactly one of `example` or "
                      "`path`.", (
    Key("example", "string", "Simulated counts with a known latent truth: \"lorenz\" (3-D) or "
        "\"fitzhugh_nagumo\" (2-D) seen through Poisson neurons.", group="example"),
    Key("n_neurons", "integer", "Neurons (simulated counts).", 100, "example"),
    Key("n_trials", "integer", "Trials, training and held-out together (simulated counts).", 200, "example"),
    Key("n_bins", "integer", "Bins per trial (simulated counts).", 50, "example"),
    Key("seed", "integer", "Seed of the simulated trials, readout and spikes.", 0, "example"),
    Key("path", "string", "An .npz of `counts` (n_trials, n_bins, n_neurons) and `dt` (the bin width); "
        "optional `latents` (n_trials, n_bins, n_latents) and `latent_names`, a known truth to align to.",
        group="npz"),
    Key("heldout", "float", "Fraction of the trials (the last ones) held out to validate on, in (0, 0.5].", 0.2),
    Key("align", "string", "The frame the field is distilled in: \"truth\" (least-squares affine map onto the "
        "data's `latents`), \"canonical\" (principal axes, unit variance), or \"auto\" (truth where the data have "
        "latents of the fitted dimension).", "auto"),
    Key("names", "list of strings", "Names of the latent states in the frame (default: the data's "
        "`latent_names` when aligned to them, else z1, z2, ...)."),
))

# `discover.distill.DistillOptions` takes its defaults from here
_DISTILL = Section("distill", "How the learned residual becomes closed-form terms, and how one is chosen.", (
    Key("route", "string", "\"ude\" distils the trained network, \"direct\" the data's smoothed derivatives "
        "(no network), \"auto\" runs both and keeps the one that re-simulates better.", "auto"),
    Key("backends", "list of strings", "Distillers whose candidates share one Pareto front: \"sparse\", "
        "\"symbolic\".", ["sparse", "symbolic"]),
    Key("sparse", "table", "Settings of the sparse distiller: see [distill.sparse].", {}),
    Key("symbolic", "table", "Settings of the symbolic distiller: see [distill.symbolic].", {}),
    Key("choose_by", "string", "\"resimulation\" (candidates re-simulate held-out windows) or \"residual\" "
        "(held-out residual error only; faster, less reliable).", "resimulation"),
    Key("tolerance", "float", "Of the candidates within this factor of the best score, the one with the fewest "
        "constants wins (then the lowest score).", 1.5),
    Key("floor", "float", "Added to the best score before the tolerance: below it windows cannot tell "
        "candidates apart.", 1e-4),
    Key("joint", "boolean", "Choose every state's terms together: each combination of the states' candidates "
        "(from both routes) is fitted, numbers and initial states, to stretches of 5 windows of the training data, "
        "and the fewest constants within `tolerance` of the best wins (not for spiking models).", True),
    Key("refit", "boolean", "Refit the chosen terms' coefficients through the ODE solver against the data.", True),
    Key("refit_candidates", "integer", "How many of the best front candidates are refit through the solver "
        "before the choice (0: none).", 6),
    Key("prune", "boolean", "After the refit, drop discovered terms one at a time while the rest, refit, keep the "
        "window error within `tolerance` x the error with them + `floor` (needs refit).", True),
    Key("round", "boolean", "Round coefficients to the fewest digits that keep the window error within 1 % "
        "(default: true, false for spiking models)."),  # no one default: `DistillOptions.rounding` decides
    Key("selection", "float", "Fraction at the end of each training trajectory held out for choosing "
        "candidates, in [0, 0.5).", 0.2),
    Key("seed", "integer", "Seed of the distillers and the held-out windows.", 0),
))

_OUTPUT = Section("output", "Where results go.", (
    Key("directory", "string", "The results folder (never overwritten without --force).", "results"),
))

# Descriptions of estimator keywords; names and defaults come from the signatures.
TRAINING_DOCS = {
    "width": "Neurons per hidden layer of each residual network.",
    "depth": "Hidden layers of each residual network.",
    "window": "Steps per multiple-shooting window (default 20; 8 for a spiking model, whose upstroke a longer "
              "window from a noisy start cannot follow).",
    "batch_size": "Windows per gradient step.",
    "iterations": "Adam steps (cosine-decayed learning rate).",
    "learning_rate": "Adam's initial learning rate.",
    "lbfgs_iterations": "L-BFGS polish steps after Adam (0: none).",
    "prefit_iterations": "Steps pre-fitting each network to a derivative estimate minus the known part.",
    "solver": "\"rk4\" (ours, fused), \"torchdiffeq-rk4\", \"dopri5\" or \"adjoint-dopri5\" (torchdiffeq).",
    "substeps": "Solver steps per sample interval (2 or more for stiff models such as Hodgkin-Huxley).",
    "stride": "Sample intervals per RK4 step while Adam trains: \"auto\" (the longest step whose error stays "
              "within half the data's noise s.d.; 1 for noise-free data, other solvers or substeps > 1) or a "
              "divisor of `window`. The L-BFGS polish always steps once per sample.",
    "dtype": "\"float32\" or \"float64\".",
    "seed": "Seed of the networks' initial weights and the window batches.",
    "threads": "Torch threads; one per job is fastest for small networks.",
    "device": "\"cpu\", \"cuda\" (a GPU; an error where torch sees none) or \"auto\" (the GPU when there is one); "
              "the trained model comes back to the CPU.",
    "checkpoint": "A file to save training state to (set by `discover run` next to the results folder).",
    "checkpoint_every": "Adam steps between checkpoints.",
    "resume": "Continue from `checkpoint` if it exists (`discover run --resume` sets it).",
    "max_recoveries": "Rollbacks after a non-finite loss (each halves the learning rate) before giving up.",
}
LATENT_DOCS = {
    "latent_dim": "Latent states (the model's dimension).",
    "hidden": "Width of the encoder's GRU and of the field's MLP.",
    "iterations": "Adam steps (cosine-decayed learning rate).",
    "learning_rate": "Adam's initial learning rate (FitzHugh-Nagumo's benchmark needs 3e-3).",
    "batch_size": "Trials per step, drawn without replacement (the benchmarks use every trial).",
    "substeps": "RK4 steps per bin.",
    "seed": "Seed of the weights and the batches.",
    "threads": "Torch threads.",
    "device": "\"cpu\", \"cuda\" (a GPU; an error where torch sees none) or \"auto\" (the GPU when there is one).",
}
LATENT_EXCLUDED = ("known", "progress")  # a config run has no known latent part; progress follows --quiet
SPARSE_DOCS = {
    "library": "Feature libraries: any of \"polynomial\", \"exp\" (exp(x/k)), \"sigmoid\" (Boltzmann "
               "1/(1+exp(-(x-c)/k)), alone and times each feature).",
    "degree": "Degree of the polynomial library.",
    "thresholds": "STLSQ thresholds on standardised coefficients (default: 40 values from 1e-3 to 1).",
    "alpha": "Ridge strength in STLSQ.",
    "n_bags": "Bootstrap resamples per threshold for inclusion frequencies (0: off).",
    "criterion": "\"knee\" (simplest within `tolerance` of the best), \"per_term\" (simplest that no more "
                 "complex candidate beats by more than `tolerance` per extra constant), \"aic\" or \"bic\".",
    "max_refine": "Candidates with at most this many exp/sigmoid terms get their inner constants refit.",
    "tolerance": "The knee rule's factor over the best held-out error (per_term: the factor per extra constant).",
    "floor": "Added to the best error before the tolerance.",
    "holdout": "Fraction of residual samples held out to score candidates.",
    "seed": "Seed of the holdout split and the bootstrap.",
}
SYMBOLIC_DOCS = {
    "backend": "\"operon\" (pyoperon, runs anywhere) or \"pysr\" (needs Julia and `pip install pysr`).",
    "operators": "Operators of the search (pyoperon names: add, sub, mul, div, exp, tanh, log, square, ...).",
    "max_length": "Largest expression size.",
    "max_evaluations": "The search budget: same seed, same result on any machine.",
    "time_limit": "Seconds; a safety cap (a search stopped by it depends on machine speed).",
    "generations": "Generations of the evolutionary search.",
    "population_size": "Expressions per generation.",
    "threads": "Independent searches run side by side, one thread each, fronts merged (pyoperon); 0: every core. "
               "A seed gives the same result on any machine, however busy, for a given number; another number may "
               "change it.",
    "prune": "Terms contributing less than this fraction of the target's RMS are dropped.",
    "tolerance": "The choice rule's factor over the best held-out error.",
    "floor": "Added to the best error before the tolerance.",
    "holdout": "Fraction of residual samples held out to score candidates.",
    "seed": "Seed of the search.",
}
TRAINING_EXCLUDED = ("system", "progress")  # set by the pipeline, not by a config
GATE_DOC = ("A gate whose kinetics are unknown, instead of [residual]: dx/dt = (x_inf(V) - x)/tau(V) with x not "
            "recorded, x_inf and tau learned as networks of V from the voltage and the injected current "
            "(`discover.ude.GateKinetics`), then written in the forms physiologists use (Boltzmann x_inf with a "
            "constant, bell or sigmoid tau; HH-type alpha/beta rates) by `discover.distill.distill_gate`. The "
            "gate is hidden whether or not [data] lists it; every other hidden state needs known equations.")
GATE_DOCS = {
    "name": "The gate whose kinetics are learned: a state of [model] (its equation there is ignored).",
    "voltage": "The recorded voltage the gate depends on.",
    "window": "Samples per teacher-forced window (V integrated by RK4 from a recorded sample).",
    "steps": "Adam steps.",
    "batch": "Windows per step.",
    "lr": "Adam's initial learning rate (cosine-decayed).",
    "width": "Neurons per hidden layer of each network (x_inf, tau).",
    "depth": "Hidden layers of each network.",
    "tau0": "The time constant the tau network starts from (default 50 samples).",
    "seed": "Seed of the networks' start and the window batches.",
    "refit": "Closed forms refitted in full on the data after every form is screened.",
    "tolerance": "The smallest form whose data loss is within this fraction of the best one's is chosen.",
    "screen_rows": "Windows each form is screened on.",
    "max_rows": "Windows the best forms are refitted on.",
}


SECTION_NAMES = ("data", "model", "residual", "cell", "gate", "training", "distill", "population", "latent", "output")
DATA, MODEL, RESIDUAL, CELL, DISTILL, OUTPUT, POPULATION = (
    _DATA, _MODEL, _RESIDUAL, _CELL, _DISTILL, _OUTPUT, _POPULATION)
