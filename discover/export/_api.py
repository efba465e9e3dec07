"""One entry point per use: `export` (a system) and `export_results` (a results folder)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .._choices import EXPORT_TARGETS
from .._errors import ConfigError, did_you_mean
from ..equations import EquationSystem
from . import brian2, nestml, neuroml, neuron, python
from ._common import identifier, inert

TARGETS = EXPORT_TARGETS
SPIKING_TARGETS = ("python", "brian2", "neuroml", "nestml")
"""Targets that write any `SpikeRule` (threshold, reset, refractory); NEURON writes one on the membrane
voltage (`supported_targets`)."""


def supported_targets(system: EquationSystem) -> tuple[str, ...]:
    """The export targets that can represent `system` whole (NEURON's runner resets only the membrane
    voltage, NEURON's v)."""
    if system.spike is None:
        return TARGETS
    return (*SPIKING_TARGETS, "neuron") if neuron.spikes_on_membrane(system) else SPIKING_TARGETS


def export(
    system: EquationSystem, target: str, folder: str | Path, *, y0: Sequence[float] | None = None,
    inputs: Mapping[str, float] | None = None, duration: float = 100.0, force: bool = False,
) -> list[Path]:
    """Write `system` for `target` into `folder`; the runner starts from `y0` with constant `inputs`.

    Files already in the folder are replaced only with `force`.
    """
    if target not in TARGETS:
        raise ConfigError(f"export target {target!r} is not one of {list(TARGETS)}.{did_you_mean(target, TARGETS)}")
    if target not in supported_targets(system):
        assert system.spike is not None  # every target writes a model without a spike rule
        where = (f" on `{system.spike.state}`, not its one membrane voltage in mV (NEURON's v, the state NEURON's "
                 "runner resets)" if target == "neuron" else "")
        raise ConfigError(
            f"{system.name!r} spikes by threshold and reset (a hybrid model){where}, which the {target} export does "
            f"not write; dropping the reset would export a different model. Export to "
            f"{', '.join(supported_targets(system))}."
        )
    y0 = [0.0] * len(system.states) if y0 is None else [float(x) for x in y0]
    if len(y0) != len(system.states):
        raise ConfigError(f"y0 has {len(y0)} values but {system.name!r} has states {list(system.states)}.")
    inputs = {u: float((inputs or {}).get(u, 0.0)) for u in system.inputs}
    system = inert(system)  # names become identifiers, free text one plain line: nothing can inject code
    stem = system.name
    files = {
        "python": lambda: {f"{stem}.py": python.render(system, y0, inputs, duration)},
        "brian2": lambda: {f"{stem}_brian2.py": brian2.render(system, y0, inputs, duration)},
        "neuron": lambda: {f"{neuron.mechanism_name(system)}.mod": neuron.render_mod(system),
                           f"run_{stem}_neuron.py": neuron.render_runner(system, y0, inputs, duration)},
        "neuroml": lambda: {f"LEMS_{stem}.xml": neuroml.render(system, y0, inputs, duration),
                            neuroml.runner_name(system): neuroml.render_runner(system)},
        "nestml": lambda: {f"{stem}_neuron.nestml": nestml.render(system, y0, inputs, duration)},
    }[target]()
    folder = Path(folder)
    clash = [name for name in files if (folder / name).exists()]
    if clash and not force:
        raise ConfigError(f"{', '.join(clash)} already in {str(folder)!r}; pass --force to replace.")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return [folder / name for name in files]


def export_results(results: str | Path, targets: Sequence[str], *, force: bool = False) -> list[Path]:
    """Export a results folder's models into RESULTS/export/<target>/: the discovered system as
    `<name>_discovered` and, beside it, the known part alone as `<name>_known_only` (the model
    before discovery, to compare with in the simulator; left out when nothing was known, and for a
    learned gate's folder, whose model as given only holds the kinetics the closed form replaced).

    "all" means every target that can represent the system (`supported_targets`).
    The runners start from the first held-out trajectory's initial state, with its inputs'
    mean values held constant, for its duration; a state the data do not record (a cell model's
    spike-history traces, a hidden state) starts at 0.
    """
    from ..report import load_results

    r = load_results(results)
    targets = list(supported_targets(r.discovered)) if "all" in targets else list(targets)
    data = r.heldout
    recorded = dict(zip(data.states, data.y[0, 0], strict=True))
    y0 = [float(recorded.get(s, 0.0)) for s in r.discovered.states]
    inputs = {u: float(np.mean(data.u[0, :, j])) for j, u in enumerate(data.inputs)}
    duration = float(data.t[-1] - data.t[0])
    written = []
    # a learned gate's "known" model is the one its kinetics replaced, not a part of the result
    models = results_models(r.known, r.discovered, known_only="gate" not in r.metrics)
    for target in targets:
        for system in models:
            written += export(system, target, Path(results) / "export" / target, y0=y0, inputs=inputs,
                              duration=duration, force=force)
    return written


def results_models(known: EquationSystem, discovered: EquationSystem, *,
                   known_only: bool = True) -> list[EquationSystem]:
    """The models a results folder exports, named apart: the discovered system and, with
    `known_only`, the known part alone (every residual set to zero, as the report's "known only"
    re-simulation), unless the known part is empty (a latent field learned from nothing: every
    right-hand side zero)."""
    name = identifier(discovered.name)
    models = [dataclasses.replace(discovered, name=f"{name}_discovered")]
    if not known_only:
        return models
    known_only_model = known.without_residuals()
    if any(rhs != 0 for rhs in known_only_model.rhs):
        models.append(dataclasses.replace(known_only_model, name=f"{name}_known_only"))
    return models
