"""Run configuration: TOML in, frozen dataclasses out, every key checked."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError, DiscoverError, FitError, check_keys, check_keywords, did_you_mean, sentence
from ._npz import npz_names
from ._population import PopulationConfig, population_config
from ._recording_config import check_recording_options, check_same_signals, split_sweeps, sweep_list
from ._schema import CELL, DATA, MODEL, OUTPUT, SECTION_NAMES, TRAINING_EXCLUDED
from .data import Trajectories, example_data
from .distill import check_distill_options
from .equations import EquationSystem, Parameter
from .models import get_model
from .ude import UDE

if TYPE_CHECKING:
    from .cell import ElectrodeFit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# allowed keys come from the schema, which also generates the docs' configuration reference
_SECTIONS = SECTION_NAMES
_DATA_KEYS = DATA.names()
_RECORDING_KEYS = DATA.names("recording")
_CELL_KEYS = CELL.names()
_MODEL_KEYS = MODEL.names()
_MODEL_KINDS = ("library", "equations", "states")


@dataclass(frozen=True)
class RunConfig:
    """A whole run: where the data come from, the known model, where residuals go, options.

    `residual` maps a state to its residual's features (`None`: all states and inputs).
    `training` and `distill` are keyword arguments of `UDE` and `SparseDistiller`.
    `cell` (instead of `model` and `residual`): a current-clamp cell, whose passive membrane
    and spike rule are estimated from the training sweeps (`discover.cell`). `gate` (instead of
    `residual`): a hidden gate whose kinetics are learned (`discover.ude.GateKinetics`).
    Relative paths are resolved against `base_dir` (the config file's folder).
    """

    data: Mapping[str, Any]
    model: Mapping[str, Any]
    residual: Mapping[str, tuple[str, ...] | None]
    training: Mapping[str, Any] = field(default_factory=dict)
    distill: Mapping[str, Any] = field(default_factory=dict)
    output: str = "results"
    base_dir: Path = Path(".")
    cell: Mapping[str, Any] | None = None
    gate: Mapping[str, Any] | None = None

    def prepare(self) -> tuple[EquationSystem, Trajectories, Trajectories]:
        """`(known system, training data, held-out data)`, ready for `discover`.

        For a `cell`, the passive membrane and spike rule are estimated from the training sweeps,
        and, when the residual depends on `s`, both data sets gain that time-since-last-spike state.
        """
        train, heldout = self.load_data()
        if self.cell is None:
            return self.build_system(), train, heldout
        return _prepare_cell(self.cell, train, heldout)

    def build_system(self) -> EquationSystem:
        """The known model with a residual placeholder on each chosen state (a `cell`'s is
        estimated from its data: use `prepare`)."""
        if self.cell is not None:
            raise ConfigError("a [cell] model is estimated from the recording: use RunConfig.prepare().")
        m = self.model
        if "library" in m:
            system = get_model(m["library"]).with_parameters(
                {p.name: p.value for p in m.get("parameters", ())}
            )
            for state, terms in m.get("remove", {}).items():
                system = system.without_terms(state, terms)
        else:  # `states` alone: nothing known, every right-hand side starts at 0 and is all residual
            equations = m["equations"] if "equations" in m else [f"d{s}/dt = 0" for s in m["states"]]
            system = EquationSystem.from_text(
                equations, inputs=m.get("inputs", ()), parameters=m.get("parameters", {}),
                units=m.get("units", {}), time_unit=m.get("time_unit", "1"), name=m.get("name", "model"),
            )
        for state, features in self.residual.items():
            system = system.with_residual(state, features)
        return system

    def load_data(self) -> tuple[Trajectories, Trajectories]:
        """`(training, held_out)` trajectories."""
        d = self.data
        if "example" in d:
            opts = {k: d[k] for k in ("n_train", "n_heldout", "noise", "seed", "duration") if k in d}
            return self._without_hidden(*example_data(d["example"], **opts))
        path = self.base_dir / d["path"]
        if _is_recording(path, d):
            return self._load_recording(path)
        data = Trajectories.load_npz(path)
        if "heldout_path" in d:
            return self._without_hidden(data, Trajectories.load_npz(self.base_dir / d["heldout_path"]))
        n_held = int(d.get("heldout", 1))
        if not 0 < n_held < data.n_trajectories:
            raise ConfigError(
                f"data.heldout = {n_held} but {d['path']!r} has {data.n_trajectories} trajectories; "
                "hold out at least one and keep at least one for training, or give data.heldout_path."
            )
        cut = data.n_trajectories - n_held
        return self._without_hidden(data.select(slice(0, cut)), data.select(slice(cut, None)))

    def _without_hidden(self, train: Trajectories, heldout: Trajectories) -> tuple[Trajectories, Trajectories]:
        """The data without the states declared hidden, after checking they hold every other state."""
        hidden, out = (*self.data.get("hidden", ()), *([self.gate["name"]] if self.gate else [])), []
        states = self.build_system().states
        for data in (train, heldout):
            missing = [s for s in states if s not in data.states and s not in hidden]
            if missing:
                raise ConfigError(f"the data have no state {missing} (they have {list(data.states)}); record "
                                  f"{'it' if len(missing) == 1 else 'them'}, or declare [data] hidden = {missing} "
                                  "if the model's equations for them are fully known.")
            keep = [i for i, s in enumerate(data.states) if s not in hidden]
            out.append(Trajectories(data.t, data.y[..., keep], data.u, tuple(data.states[i] for i in keep),
                                    data.inputs))
        return out[0], out[1]

    def _load_recording(self, path: Path) -> tuple[Trajectories, Trajectories]:
        """Sweeps of a recording as (training, held-out) trajectories in the model's units: the
        held-out sweeps from the same file, or from `heldout_path` resampled to the training rate."""
        d = self.data
        states, inputs, _, _ = self._signal_units()
        rec = self._read_recording(path, d.get("current"))
        if "heldout_path" not in d:
            train, held = split_sweeps(self._in_model_units(rec), d)
            return train.to_trajectories(states, inputs), held.to_trajectories(states, inputs)
        other = self._read_recording(self.base_dir / d["heldout_path"], d.get("heldout_current"))
        check_same_signals(rec, other, [*states, *inputs], d)  # before conversion, naming both files
        train = self._in_model_units(rec).select(_or_all(sweep_list(d, "sweeps"))).to_trajectories(states, inputs)
        # resampled from the held-out file's own rate, not decimated first: one anti-aliasing filter
        held = self._in_model_units(other, decimate=False).select(_or_all(sweep_list(d, "heldout_sweeps")))
        return train, held.resample(train.dt).to_trajectories(states, inputs)

    def load_electrode(self) -> ElectrodeFit | None:
        """The electrode compensation of a [cell] with `electrode` (a subthreshold noise recording read
        with the [data] options, its first sweep, in mV, pA and ms), or None."""
        from .cell import fit_electrode

        if self.cell is None or "electrode" not in self.cell:
            return None
        rec = self._in_model_units(self._read_recording(self.base_dir / self.cell["electrode"], None))
        data = rec.to_trajectories(["V"], ["I"])
        return fit_electrode(data.y[0, :, 0], data.u[0, :, 0], data.dt)

    def _read_recording(self, path: Path, current: str | None):
        """One recording file, read with the [data] options."""
        from .recordings import MissingUnitsError, read_recording

        d = self.data
        try:
            return read_recording(path, current=self.base_dir / current if current else None, units=d.get("units"),
                                  time_unit=d.get("time_unit"), channel=int(d.get("channel", 0)),
                                  current_channel=d.get("current_channel"))
        except MissingUnitsError as exc:  # the fix in the config's own syntax
            raise exc.in_toml() from None

    def _in_model_units(self, rec, decimate: bool = True):
        """A recording in the model's units, cropped (`start`, `stop`) and decimated."""
        d = self.data
        _, _, units, time_unit = self._signal_units()
        rec = rec.in_units(time_unit, **{k: u for k, u in units.items() if k in rec.signals})
        if "start" in d or "stop" in d:
            rec = rec.crop(d.get("start"), d.get("stop"))
        if decimate and int(d.get("decimate", 1)) > 1:
            rec = rec.decimate(int(d["decimate"]))
        return rec

    def _signal_units(self) -> tuple[list[str], list[str], dict[str, str], str]:
        """States, inputs, their units and the time unit the model wants the data in."""
        if self.cell is not None:
            return ["V"], ["I"], {"V": "mV", "I": "pA"}, "ms"
        system, hidden = self.build_system(), self.data.get("hidden", ())
        time_unit = system.time_unit if system.time_unit in ("s", "ms", "us") else "ms"
        return [s for s in system.states if s not in hidden], list(system.inputs), dict(system.units), time_unit


def _prepare_cell(c: Mapping[str, Any], train: Trajectories, heldout: Trajectories
                  ) -> tuple[EquationSystem, Trajectories, Trajectories]:
    """The membrane system of a [cell] and the data with the hidden states it adds (w, s)."""
    from .cell import (
        add_adaptation,
        add_spike_clock,
        estimate_adaptation,
        estimate_passive,
        estimate_spike_rule,
        membrane_system,
    )

    rule = estimate_spike_rule(train, float(c["threshold"]), reset=c.get("reset"), refractory=c.get("refractory"))
    tau_w = c.get("adaptation", False)
    if tau_w is True:  # the time constant estimated with the passive membrane
        tau_w = estimate_adaptation(train, rule)["tau_w"]
    if tau_w:  # the hidden state along the data, from the recorded spikes; its strength fitted with C, gL, EL
        train, heldout = (add_adaptation(d, rule, float(tau_w)) for d in (train, heldout))
        passive = estimate_passive(train, rule, adaptation="w")
    else:
        passive, tau_w = estimate_passive(train, rule), None
    system = membrane_system(passive, rule, tuple(c.get("features", ["V"])), adaptation=tau_w)
    if "s" in system.states:
        train, heldout = add_spike_clock(train, rule), add_spike_clock(heldout, rule)
    return system, train, heldout


def _or_all(sweeps: list | None) -> list | slice:
    return slice(None) if sweeps is None else sweeps


def load_config(path: str | Path) -> RunConfig | PopulationConfig:
    """Read and check a TOML run configuration (a `PopulationConfig` where it has [population])."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist; see examples/fitzhugh_nagumo.toml for one.")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(sentence(f"{str(path)!r} is not valid TOML: {exc}")) from None
    return config_from_dict(raw, base_dir=path.parent)


def config_from_dict(raw: Mapping[str, Any], base_dir: str | Path = ".") -> RunConfig | PopulationConfig:
    check_keys("config", raw, _SECTIONS)
    if "population" in raw:
        return population_config(raw, base_dir)
    if "latent" in raw:
        raise ConfigError("[latent] sets the latent model of a population run: add [population] (spike counts), "
                          "or remove [latent]; a trajectory run is trained by [training].")
    if "cell" in raw:
        if "gate" in raw:
            raise ConfigError("[cell] and [gate] are two kinds of run: [cell] a GIF-type model of a recorded cell, "
                              "[gate] one gate of a conductance model in [model]; keep one.")
        return _cell_config(raw, base_dir)
    for section in ("data", "model"):
        if section not in raw:
            raise ConfigError(f"config has no [{section}] section; see examples/fitzhugh_nagumo.toml.")
    data, model = dict(raw["data"]), dict(raw["model"])
    check_keys("[data]", data, _DATA_KEYS)
    check_recording_options(data)
    check_keys("[model]", model, _MODEL_KEYS)
    if ("example" in data) == ("path" in data):
        raise ConfigError("[data] needs exactly one of `example` (built-in data) or `path` (an .npz file).")
    if sum(k in model for k in _MODEL_KINDS) != 1:
        raise ConfigError("[model] needs exactly one of `library` (a built-in model), `equations` (text) or `states` "
                          "(names only, when no part of the dynamics is known).")
    if "gate" in raw:
        _check_gate_sections(raw, model)
    elif "residual" not in raw and "states" not in model:
        raise ConfigError("config has no [residual] section: say which states get a learned residual, e.g. "
                          "[residual] v = [\"v\", \"w\"]; see examples/fitzhugh_nagumo.toml.")
    if "states" in model:
        check_keys("[model] with `states`", model, ("states", "inputs", "units", "time_unit", "name"))
        states = model["states"]
        if not (isinstance(states, list) and states and all(isinstance(x, str) and x.isidentifier() for x in states)):
            raise ConfigError(f"[model] states = {states!r}: give the state names as a list, "
                              "e.g. states = [\"x\", \"y\"].")
    if "library" in model:
        check_keys("[model] with `library`", model, ("library", "remove", "parameters"))
        for state, terms in model.get("remove", {}).items():
            if not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)):
                raise ConfigError(f"[model.remove] {state} = {terms!r}: give a list of terms as text, "
                                  "e.g. [\"v**3/3\"].")
    if "parameters" in model:
        model["parameters"] = tuple(_parameter(k, v) for k, v in model["parameters"].items())
    # with nothing known, every state's whole right-hand side is learned unless [residual] says otherwise
    residual, given = {}, dict(raw.get("residual", {s: "all" for s in model.get("states", ())}))
    for state, features in given.items():
        if features != "all" and not (isinstance(features, list) and all(isinstance(f, str) for f in features)):
            raise ConfigError(
                f"[residual] {state} = {features!r}: give a list of feature names, "
                f"e.g. {state} = [\"v\", \"w\"], or \"all\"."
            )
        residual[state] = None if features == "all" else tuple(features)
    for section in ("training", "distill", "output"):
        check_keys(f"[{section}]", raw.get(section, {}), None)
    check_keys("[output]", raw.get("output", {}), OUTPUT.names())
    output = str(raw.get("output", {}).get("directory", "results"))
    # option names and values now, so a typo fails before any data are read or trained on
    check_distill_options(dict(raw.get("distill", {})))
    check_training(dict(raw.get("training", {})))
    config = RunConfig(data, model, residual, dict(raw.get("training", {})), dict(raw.get("distill", {})), output,
                       Path(base_dir), gate=raw.get("gate"))
    try:
        system = config.build_system()  # fail now on a bad model, not after loading data
    except DiscoverError as exc:
        raise ConfigError(f"[model]/[residual]: {exc}") from None
    _check_hidden(data.get("hidden", []), system)
    if config.gate is not None:
        from ._gate_run import check_gate

        check_gate(config.gate, system)
    return config


def _check_gate_sections(raw: Mapping[str, Any], model: Mapping[str, Any]) -> None:
    """A [gate] run learns one gate of a known model: no residual, and its settings in [gate] itself."""
    if not isinstance(raw["gate"], Mapping):
        raise ConfigError(f"[gate] must be a table, e.g. [gate] name = \"w\"; got {raw['gate']!r}.")
    clash = [s for s in ("residual", "training", "distill") if s in raw]
    if clash:
        raise ConfigError(f"a [gate] run learns one gate's kinetics; remove [{'], ['.join(clash)}] (the gate's "
                          "training and closed-form settings are keys of [gate]: steps, lr, refit, ...).")
    if "states" in model:
        raise ConfigError("[gate] needs a known model around the gate: give [model] library or equations, "
                          "not states.")


# an Adam step of a small network on one core takes about this long (the demo's 600 take ~6 s);
# only used to warn of a budget that cannot finish, so the order of magnitude is what matters
_SECONDS_PER_STEP = 0.01


def check_training(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check [training] with the checks `UDE.fit` makes before any data (names, then values), and
    warn of a step budget that would run for more than a day."""
    options = check_keywords("[training]", options, UDE, exclude=TRAINING_EXCLUDED)
    ude = UDE(None, **options)  # type: ignore[arg-type]  # the settings alone: checking them needs no system
    try:
        ude.check_settings()
    except FitError as exc:
        hint = ""
        for key in UDE._COUNTS:
            value = options.get(key)
            if isinstance(value, float) and value.is_integer():  # TOML reads 1e6 and 600.0 as floats
                hint = (f" TOML reads {key} = {value:g} as a float: write the whole number without a decimal point "
                        f"or exponent, e.g. {key} = {int(value) if abs(value) < 1e7 else 600}.")
        raise ConfigError(f"[training] {exc}{hint}") from None
    steps = ude.iterations + ude.prefit_iterations
    days = steps * _SECONDS_PER_STEP / 86400
    if days > 1:
        warnings.warn(
            f"[training] iterations = {ude.iterations} (+ prefit_iterations = {ude.prefit_iterations}) would run for "
            f"about {days:.3g} days at ~{_SECONDS_PER_STEP * 1000:g} ms per step; the demo needs 600. Lower "
            "iterations (stop a long run with Ctrl-C and continue it with `discover run --resume`).",
            UserWarning, stacklevel=2)
    return options


def _check_hidden(hidden: Any, system: EquationSystem) -> None:
    if not (isinstance(hidden, list) and all(isinstance(s, str) for s in hidden)):
        raise ConfigError(f"[data] hidden = {hidden!r}: give the names of states the data do not record as a list, "
                          "e.g. hidden = [\"w\"].")
    for state in hidden:
        if state not in system.states:
            raise ConfigError(f"[data] hidden names {state!r}, which is not a state of the model "
                              f"({list(system.states)}).{did_you_mean(state, system.states)}")
        if state in system.residuals:
            raise ConfigError(f"[data] hidden names {state!r}, which has a [residual]: a state that is not recorded "
                              "needs fully known equations. Record it, or move the residual to a recorded state.")


def _cell_config(raw: Mapping[str, Any], base_dir: str | Path) -> RunConfig:
    """A current-clamp cell: [data] points at a recording, [cell] sets the spike threshold."""
    for section in ("model", "residual"):
        if section in raw:
            raise ConfigError(f"[cell] builds the model from the recording; remove [{section}] (or remove [cell] "
                              "and give the model yourself).")
    if "data" not in raw or "path" not in raw["data"]:
        raise ConfigError("[cell] needs [data] path = a recording (.nwb, .abf, .ibw, .csv or .npz).")
    data, cell = dict(raw["data"]), dict(raw["cell"])
    check_keys("[data]", data, ("path", "heldout_path", *_RECORDING_KEYS))
    check_recording_options(data)
    check_keys("[cell]", cell, _CELL_KEYS)
    adaptation = cell.get("adaptation", False)
    if not (isinstance(adaptation, bool) or (isinstance(adaptation, (int, float)) and 0 < adaptation < float("inf"))):
        raise ConfigError(f"[cell] adaptation = {adaptation!r}: give true (estimate the adaptation time constant), "
                          "a time constant in ms (e.g. 100.0), or false.")
    for key in ("threshold", "reset", "refractory"):
        value = cell.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ConfigError(f"[cell] {key} = {value!r}: give a number (mV for threshold and reset, ms for "
                              "refractory).")
    _check_gif_options(cell, raw)
    if cell_model(cell) == "ude" and "threshold" not in cell:
        raise ConfigError("[cell] model = \"ude\" needs `threshold`, the voltage (mV) at which the model emits a "
                          "spike and resets, e.g. threshold = -30.0 (or use model = \"gif\", which finds spikes by "
                          "their onset slope).")
    for section in ("training", "distill", "output"):
        check_keys(f"[{section}]", raw.get(section, {}), None)
    check_keys("[output]", raw.get("output", {}), OUTPUT.names())
    features = cell.get("features", ["V"])
    if not (isinstance(features, list) and set(features) <= {"V", "s", "I"} and features):
        raise ConfigError(f"[cell] features = {features!r}: the residual may depend on \"V\", \"s\" (time since the "
                          "last spike) and \"I\", e.g. features = [\"V\", \"s\"].")
    check_distill_options(dict(raw.get("distill", {})))
    check_training(dict(raw.get("training", {})))
    output = str(raw.get("output", {}).get("directory", "results"))
    return RunConfig(data, {}, {}, dict(raw.get("training", {})), dict(raw.get("distill", {})), output,
                     Path(base_dir), cell)


UDE_CELL_KEYS = ("threshold", "reset", "refractory", "features", "adaptation")


def cell_model(cell: Mapping[str, Any]) -> str:
    """The [cell] workflow: `model` where given; else "ude" for a config that sets its keys (a
    spike `threshold`: configs written before model = "gif" existed), else "gif"."""
    return cell.get("model", "ude" if any(k in cell for k in UDE_CELL_KEYS) else "gif")


def _check_gif_options(cell: Mapping[str, Any], raw: Mapping[str, Any]) -> None:
    model = cell_model(cell)
    if model not in ("gif", "ude"):
        raise ConfigError(f"[cell] model = {model!r}: give \"gif\" (a GIF-type model discovered by regression) or "
                          "\"ude\" (a neural residual on the passive membrane)."
                          f"{did_you_mean(str(model), ('gif', 'ude'))}")
    slope = cell.get("slope")
    if slope is not None and (isinstance(slope, bool) or not isinstance(slope, (int, float)) or not 0 < slope < 1e6):
        raise ConfigError(f"[cell] slope = {slope!r}: give the onset dV/dt in mV/ms, e.g. slope = 15.0, or leave it "
                          "out to choose it from the spikes.")
    runs = cell.get("runs", 100)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 2:
        raise ConfigError(f"[cell] runs = {runs!r}: give a whole number >= 2 of stochastic runs per held-out sweep, "
                          "e.g. runs = 100.")
    electrode = cell.get("electrode")
    if electrode is not None and not isinstance(electrode, str):
        raise ConfigError(f"[cell] electrode = {electrode!r}: give the path of a subthreshold noise recording.")
    if model == "gif":
        ude_only = [k for k in UDE_CELL_KEYS if k in cell]
        ude_only += [f"[{section}]" for section in ("training", "distill") if section in raw]
        if ude_only:
            raise ConfigError(f"[cell] {', '.join(ude_only)} set(s) the model = \"ude\" workflow; with model = \"gif\" "
                              "spikes, reset and refractory period come from the recording. Remove them, or add "
                              "model = \"ude\".")


def _is_recording(path: Path, data: Mapping[str, Any]) -> bool:
    """Recording formats, and .npz files that are not saved `Trajectories` (no `y` array)."""
    from .recordings import FORMATS

    if path.suffix.lower() != ".npz":
        return path.suffix.lower() in FORMATS
    if any(k in data for k in _RECORDING_KEYS):
        return True
    # the same opener as Trajectories.load_npz and read_npz: a damaged file is one DataError here
    return "y" not in npz_names(path)


def _parameter(name: str, spec: Any) -> Parameter:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Parameter(name, float(spec))
    if isinstance(spec, Mapping) and isinstance(spec.get("value"), (int, float)):
        check_keys(f"[model.parameters.{name}]", spec, ("value", "unit", "description"))
        return Parameter(name, float(spec["value"]), str(spec.get("unit", "1")), str(spec.get("description", "")))
    raise ConfigError(f"parameter {name} = {spec!r}: give a number, or {{ value = 0.7, unit = \"mV\" }}.")


DEMO_CONFIG: dict[str, Any] = {
    "data": {"example": "fitzhugh_nagumo", "n_train": 5, "n_heldout": 2, "noise": 0.01, "seed": 0},
    "model": {
        "equations": ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"],
        "inputs": ["I"],
        "parameters": {"a": 0.7, "b": 0.8, "tau": 12.5},
        "name": "fitzhugh_nagumo",
    },
    "residual": {"v": ["v", "w"]},
    "training": {"iterations": 600, "seed": 0},
    "distill": {"route": "ude", "backends": ["sparse", "symbolic"], "sparse": {"degree": 3},
                "symbolic": {"max_evaluations": 100000, "threads": 2}},
    "output": {"directory": "results/demo"},
}
