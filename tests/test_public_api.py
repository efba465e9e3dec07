"""The public API, written out: a name added to or removed from a package's `__all__` shows up as a
diff of this file, to be reviewed as the API change it is. Inside the package, code imports what it
shares across packages from these names (tests/test_imports.py checks that), and a package's own
modules import each other's private modules directly."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import discover

PUBLIC = {
    "discover": [
        "ConfigError", "DataError", "DiscoverError", "Discovery", "EquationError", "EquationSystem", "FitError",
        "Parameter", "RunConfig", "SparseDistiller", "Trajectories", "UDE", "config_from_dict", "discover",
        "example_data", "load_config", "simulate", "write_results",
    ],
    "discover.batch": ["BatchResult", "run_batch"],
    "discover.cell": [
        "CellDiscovery", "CellFit", "CellSettings", "ElectrodeFit", "SpikeAnalysis", "SpikeShape", "add_adaptation",
        "add_spike_clock", "analyse_spikes", "detect_spikes", "discover_cell", "estimate_adaptation",
        "estimate_passive", "estimate_spike_rule", "fit_electrode", "gif_system", "membrane_system", "simulate_gif",
        "spike_free_chunks",
    ],
    "discover.choose": [
        "StateDistillation", "as_refit", "checked_error", "checks", "choice_rule", "choose_by_spike_times",
        "choose_candidate", "choose_jointly", "choose_route", "choose_routes_jointly", "nondominated", "prune_terms",
        "refit_coefficients", "resimulation_errors", "round_coefficients", "score_candidates", "shooting_fit",
        "to_score",
    ],
    "discover.data": ["Chirp", "Noise", "Ramp", "Step", "Trajectories", "example_data", "integrate", "simulate"],
    "discover.distill": [
        "Candidate", "DistillOptions", "GateDistillation", "GateForm", "ResidualSamples", "SparseDistiller",
        "SymbolicDistiller", "check_distill_options", "derivative_samples", "distill_direct", "distill_gate",
        "distill_residuals", "sample_residuals",
    ],
    "discover.equations": [
        "EquationSystem", "Parameter", "SpikeRule", "TorchRHS", "compile_numpy", "compile_stacked",
        "evaluate_expression", "exprel", "parse_equation", "parse_expression", "parse_unit",
    ],
    "discover.export": ["TARGETS", "export", "export_results", "supported_targets"],
    "discover.integrate": [
        "DEVICES", "RHS", "SOLVERS", "STRIDES", "Windows", "choose_stride", "integrate_windows", "noise_level",
        "one_blas_thread", "resolve_device", "rk4_step", "rk4_substep", "state_scale", "torch_settings",
    ],
    "discover.latent": [
        "Alignment", "LatentODE", "Population", "SequentialAutoencoder", "affine_align", "canonical_frame",
        "distill_latent_field", "fitzhugh_nagumo_population", "lorenz", "lorenz_population",
        "population_from_system", "rate_r2", "refit_latent_equations", "write_latent_results",
    ],
    "discover.models": [
        "LIBRARY", "adex", "fitzhugh_nagumo", "get_model", "hindmarsh_rose", "hodgkin_huxley", "izhikevich",
        "lotka_volterra", "ltc", "morris_lecar", "passive_membrane", "van_der_pol", "wilson_cowan",
    ],
    "discover.recordings": [
        "FORMATS", "MissingUnitsError", "Recording", "UNITS", "canonical_unit", "conversion", "read_abf", "read_csv",
        "read_igor", "read_npz", "read_nwb", "read_recording", "write_npz", "write_nwb",
    ],
    "discover.report": [
        "Results", "candidate_record", "check_output_dir", "document_latex", "equations_text", "load_results",
        "metrics_table", "summary_text", "write_folder", "write_gate_results", "write_reports", "write_results",
    ],
    "discover.ude": ["GateKinetics", "HybridODE", "UDE", "hidden_states", "resting_hidden"],
    "discover.validate": [
        "RepeatScore", "coincidence_factor", "gamma_from_counts", "integrate_spiking", "matched_spikes", "md_star",
        "ms_per_unit",
        "repeats_of_one_stimulus", "resimulate", "resimulate_spiking", "resimulate_spiking_together",
        "rule_spike_metrics", "score_repeats",
        "spike_metrics", "spike_signal", "spike_thresholds", "spike_times", "spike_trains", "sweep_gamma",
        "torch_rhs", "trajectory_metrics",
    ],
}
PACKAGE = Path(discover.__file__).parent
SUBPACKAGES = sorted(f"discover.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py"))


def test_every_subpackage_is_in_the_snapshot():
    assert SUBPACKAGES == sorted(set(PUBLIC) - {"discover"})


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_the_snapshot(name):
    module = importlib.import_module(name)
    assert sorted(module.__all__) == PUBLIC[name]
    for public in module.__all__:  # each one importable
        assert getattr(module, public) is not None


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_a_subpackage_exports_exactly_its_all(name):
    # no stray public name (an import used by the __init__ itself, a name left out of __all__);
    # submodules are attributes of their package once imported, and not names it exports
    module = importlib.import_module(name)
    names = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert names == set(module.__all__)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_a_subpackage_re_exports_as_x_as_x(name):
    # `from ._x import name as name`: what type checkers take for an explicit re-export
    init = PACKAGE / name.split(".")[1] / "__init__.py"
    tree = ast.parse(init.read_text())
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert all(node.level == 1 and (node.module or "").startswith("_") for node in imports)
    assert all(alias.asname == alias.name for node in imports for alias in node.names)
    assert sorted(alias.name for node in imports for alias in node.names) == PUBLIC[name]
