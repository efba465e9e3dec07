"""Run configuration: TOML in, frozen dataclasses out, every key checked."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigError, DiscoverError, check_keywords, did_you_mean
from .data import Trajectories, example_data
from .distill import check_distill_options
from .equations import EquationSystem, Parameter
from .models import get_model
from .ude import UDE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_SECTIONS = ("data", "model", "residual", "training", "distill", "output")
_DATA_KEYS = ("example", "path", "heldout_path", "heldout", "n_train", "n_heldout", "noise", "seed", "duration")
_MODEL_KEYS = ("library", "remove", "equations", "inputs", "parameters", "units", "time_unit", "name")


@dataclass(frozen=True)
class RunConfig:
    """A whole run: where the data come from, the known model, where residuals go, options.

    `residual` maps a state to its residual's features (`None`: all states and inputs).
    `training` and `distill` are keyword arguments of `UDE` and `SparseDistiller`.
    Relative paths are resolved against `base_dir` (the config file's folder).
    """

    data: Mapping[str, Any]
    model: Mapping[str, Any]
    residual: Mapping[str, tuple[str, ...] | None]
    training: Mapping[str, Any] = field(default_factory=dict)
    distill: Mapping[str, Any] = field(default_factory=dict)
    output: str = "results"
    base_dir: Path = Path(".")

    def build_system(self) -> EquationSystem:
        """The known model with a residual placeholder on each chosen state."""
        m = self.model
        if "library" in m:
            system = get_model(m["library"]).with_parameters(
                {p.name: p.value for p in m.get("parameters", ())}
            )
            for state, terms in m.get("remove", {}).items():
                system = system.without_terms(state, terms)
        else:
            system = EquationSystem.from_text(
                m["equations"], inputs=m.get("inputs", ()), parameters=m.get("parameters", {}),
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
            return example_data(d["example"], **opts)
        data = Trajectories.load_npz(self.base_dir / d["path"])
        if "heldout_path" in d:
            return data, Trajectories.load_npz(self.base_dir / d["heldout_path"])
        n_held = int(d.get("heldout", 1))
        if not 0 < n_held < data.n_trajectories:
            raise ConfigError(
                f"data.heldout = {n_held} but {d['path']!r} has {data.n_trajectories} trajectories; "
                "hold out at least one and keep at least one for training, or give data.heldout_path."
            )
        cut = data.n_trajectories - n_held
        return data.select(slice(0, cut)), data.select(slice(cut, None))


def load_config(path: str | Path) -> RunConfig:
    """Read and check a TOML run configuration."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist; see examples/fitzhugh_nagumo.toml for one.")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{str(path)!r} is not valid TOML: {exc}.") from None
    return config_from_dict(raw, base_dir=path.parent)


def config_from_dict(raw: Mapping[str, Any], base_dir: str | Path = ".") -> RunConfig:
    _check_keys("config", raw, _SECTIONS)
    for section in ("data", "model", "residual"):
        if section not in raw:
            raise ConfigError(f"config has no [{section}] section; see examples/fitzhugh_nagumo.toml.")
    data, model = dict(raw["data"]), dict(raw["model"])
    _check_keys("[data]", data, _DATA_KEYS)
    _check_keys("[model]", model, _MODEL_KEYS)
    if ("example" in data) == ("path" in data):
        raise ConfigError("[data] needs exactly one of `example` (built-in data) or `path` (an .npz file).")
    if ("library" in model) == ("equations" in model):
        raise ConfigError("[model] needs exactly one of `library` (a built-in model) or `equations` (text).")
    if "library" in model:
        _check_keys("[model] with `library`", model, ("library", "remove", "parameters"))
        for state, terms in model.get("remove", {}).items():
            if not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)):
                raise ConfigError(f"[model.remove] {state} = {terms!r}: give a list of terms as text, e.g. [\"v**3/3\"].")
    if "parameters" in model:
        model["parameters"] = tuple(_parameter(k, v) for k, v in model["parameters"].items())
    residual = {}
    for state, features in dict(raw["residual"]).items():
        if features != "all" and not (isinstance(features, list) and all(isinstance(f, str) for f in features)):
            raise ConfigError(
                f"[residual] {state} = {features!r}: give a list of feature names, e.g. {state} = [\"v\", \"w\"], or \"all\"."
            )
        residual[state] = None if features == "all" else tuple(features)
    for section in ("training", "distill", "output"):
        _check_keys(f"[{section}]", raw.get(section, {}), None)
    _check_keys("[output]", raw.get("output", {}), ("directory",))
    output = str(raw.get("output", {}).get("directory", "results"))
    # option names and values now, so a typo fails before any data are read or trained on
    check_distill_options(dict(raw.get("distill", {})))
    check_keywords("[training]", dict(raw.get("training", {})), UDE, exclude=("system", "progress"))
    config = RunConfig(data, model, residual, dict(raw.get("training", {})), dict(raw.get("distill", {})), output, Path(base_dir))
    try:
        config.build_system()  # fail now on a bad model, not after loading data
    except DiscoverError as exc:
        raise ConfigError(f"[model]/[residual]: {exc}") from None
    return config


def _parameter(name: str, spec: Any) -> Parameter:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Parameter(name, float(spec))
    if isinstance(spec, Mapping) and isinstance(spec.get("value"), (int, float)):
        _check_keys(f"[model.parameters.{name}]", spec, ("value", "unit", "description"))
        return Parameter(name, float(spec["value"]), str(spec.get("unit", "1")), str(spec.get("description", "")))
    raise ConfigError(f"parameter {name} = {spec!r}: give a number, or {{ value = 0.7, unit = \"mV\" }}.")


def _check_keys(where: str, table: Mapping[str, Any], allowed: tuple[str, ...] | None) -> None:
    """Check `table` is a table with only `allowed` keys (any keys when `allowed` is None)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table, got {table!r}.")
    for key in table if allowed is not None else ():
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r} in {where}; allowed: {', '.join(allowed)}.{did_you_mean(key, allowed)}")


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
    "distill": {"backends": ["sparse", "symbolic"], "sparse": {"degree": 3}, "symbolic": {"max_evaluations": 100000}},
    "output": {"directory": "results/demo"},
}
