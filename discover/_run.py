"""Run a configuration: the one path `discover run` and `discover batch` take from a config to results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._config import RunConfig, cell_model
from ._pipeline import Discovery
from ._progress import Progress


def run_config(config: RunConfig, *, progress: bool | Progress = True, training: Mapping[str, Any] | None = None,
               say: Callable[..., None] = lambda *a: None) -> Discovery:
    """Prepare the data and model of `config`, discover and validate: a GIF-type cell by regression
    (`[cell] model = "gif"`), anything else through `discover()` (`training` overrides settings of
    `[training]`, e.g. a checkpoint). `say` prints what was prepared."""
    if config.cell is not None and cell_model(config.cell) == "gif":
        from .cell import CellSettings, discover_cell

        train, heldout = config.load_data()
        say(f"Data: {train.n_trajectories} training and {heldout.n_trajectories} held-out sweeps, "
            f"{train.t.size} samples each (dt = {train.dt:g} ms).")
        settings = CellSettings(slope=config.cell.get("slope"), runs=int(config.cell.get("runs", 100)))
        cell = discover_cell(train, heldout, electrode=config.load_electrode(), settings=settings, progress=progress)
        return discovery_record(cell)
    from ._pipeline import discover

    system, train, heldout = config.prepare()
    say("Known model with residual:")
    say("\n".join("  " + line for line in str(system).splitlines()))
    say(f"Data: {train.n_trajectories} training and {heldout.n_trajectories} held-out trajectories, "
        f"{train.t.size} samples each (dt = {train.dt:g}).")
    return discover(train, system, heldout, training={**config.training, **(training or {})},
                    distill=config.distill, progress=progress)


def discovery_record(cell) -> Discovery:
    """A `CellDiscovery` as the `Discovery` every results folder, report and export reads: the
    voltage only (the model's other states are spike-history traces), no network, no residual
    distillation; the fit (terms kept, why, the spike analysis, the electrode) under `routes`."""
    from .data import Trajectories

    def voltage(d):
        return Trajectories(d.t, d.y[..., :1], d.u, d.states[:1], d.inputs)

    fit = cell.fit
    record = {
        "chosen": "regression",
        "why": "GIF-type model discovered by regression (membrane by least squares on dV/dt, threshold by Poisson "
               "regression), every time constant and the threshold's voltage dependence chosen on held-out blocks",
        "routes": {"regression": {"terms": {"V": str(cell.discovered.rhs[0])},
                                  "threshold": cell.discovered.spike.threshold_text()}},
        "cell": {
            "membrane": {"C_pF": fit.membrane.C, "gL_nS": fit.membrane.gL, "EL_mV": fit.membrane.EL,
                         "currents_tau_ms_amplitude_pA": [list(c) for c in fit.membrane.currents],
                         "explained_dvdt": fit.membrane.explained_dvdt, "explained_v_forced": fit.membrane.explained_v,
                         "kept": list(fit.membrane.selection.kept), "why_stopped": fit.membrane.selection.why},
            "threshold": {"VT_mV": fit.threshold.VT, "DV_mV": fit.threshold.DV,
                          "jumps_tau_ms_amplitude_mV": [list(j) for j in fit.threshold.jumps],
                          "voltage_tau_ms_knee_mV_slope": list(fit.threshold.voltage) if fit.threshold.voltage else None,
                          "gain_nats_per_spike": fit.threshold.gain, "kept": list(fit.threshold.selection.kept),
                          "why_stopped": fit.threshold.selection.why},
            "spikes": cell.spikes.as_dict(),
            "electrode": cell.electrode.as_dict() if cell.electrode is not None else None,
        },
    }
    return Discovery(cell.known, cell.discovered, None, {}, voltage(cell.train), voltage(cell.heldout),
                     cell.predictions, cell.metrics, cell.seconds, notes=cell.notes, routes=record)
