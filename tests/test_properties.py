"""Property-based tests: random malformed input to the parser, units, data, configs, saved systems,
estimator settings, recordings and simulation gives our own errors (DiscoverError subclasses) or a valid
object, never a traceback from numpy or sympy."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from discover import UDE, DiscoverError, EquationSystem, Trajectories, config_from_dict, example_data, simulate
from discover._config import DEMO_CONFIG
from discover.equations import parse_expression
from discover.equations._units import parse_unit
from discover.recordings import Recording
from tests.helpers import fhn_known

# Example counts come from the hypothesis profile (tests/conftest.py): few by default, many in the thorough tier
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# characters of equation text, weighted towards what breaks parsers
EQUATION_TEXT = st.lists(st.sampled_from(list("vwxI+-*/()^=.,_ 0123456789eE[]{}:;'\"\\!@#$%&|<>?`~") +
                                         ["exp", "sqrt", "__", "import", "lambda", "**", "tanh(", "exprel("]),
                         max_size=25).map("".join)


@SETTINGS
@given(EQUATION_TEXT)
def test_parser_gives_an_expression_or_our_error(text):
    try:
        parse_expression(text, ["v", "w", "I"])
    except DiscoverError:
        pass


@SETTINGS
@given(st.lists(EQUATION_TEXT, min_size=1, max_size=2))
def test_system_from_text_gives_a_system_or_our_error(lines):
    try:
        EquationSystem.from_text(lines, inputs=["I"], parameters={"a": 0.7})
    except DiscoverError:
        pass


@SETTINGS
@given(st.lists(st.sampled_from(list("mVApFSsnuk*/^()1 02-") + ["ohm", "Hz", "**"]), max_size=10).map("".join))
def test_unit_parser_gives_a_unit_or_our_error(text):
    try:
        parse_unit(text)
    except DiscoverError:
        pass


ARRAYS = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6).map(np.array),
    st.integers(0, 3).flatmap(lambda d: st.lists(st.integers(0, 3), min_size=d, max_size=d)).map(
        lambda shape: np.random.default_rng(0).normal(size=shape)),
    st.just(np.array([[1.0, np.nan], [2.0, 3.0]])),
)


@SETTINGS
@given(ARRAYS, ARRAYS, st.lists(st.sampled_from(["v", "w", "", "v"]), max_size=3))
def test_trajectories_validate_or_raise_our_error(t, y, states):
    try:
        Trajectories(t, y, None, tuple(states))
    except DiscoverError:
        pass


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=5),
                   st.lists(st.text(max_size=3), max_size=2),
                   st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@SETTINGS
@given(st.sampled_from(sorted(DEMO_CONFIG)), st.text(max_size=10), VALUES)
def test_config_with_a_random_entry_is_accepted_or_refused_clearly(section, key, value):
    raw = {k: dict(v) for k, v in DEMO_CONFIG.items()}
    raw[section][key] = value
    try:
        config_from_dict(raw)
    except DiscoverError as exc:
        assert str(exc)  # a message, naming what is wrong


def test_property_tests_exercise_both_outcomes():
    # guard against a strategy that only ever produces valid (or only invalid) input
    parse_expression("v - v**3/3", ["v"])
    with pytest.raises(DiscoverError):
        parse_expression("__import__('os')", ["v"])


# The rest of the public API: saved systems read back from disk, estimator settings, recordings,
# simulation and example data. `discover report`/`export` read equations.json, which a user may edit.
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=6),
              EQUATION_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
SAVED = fhn_known().to_dict()


@SETTINGS
@given(st.sampled_from(sorted(SAVED) + ["spike", "extra"]), JSON_VALUES)
def test_saved_system_with_a_random_entry_reads_back_or_raises_our_error(key, value):
    data = {**SAVED, key: value}
    try:
        EquationSystem.from_dict(data)
    except DiscoverError:
        pass


@SETTINGS
@given(st.lists(JSON_VALUES, max_size=3))
def test_saved_system_with_random_parameters_reads_back_or_raises_our_error(parameters):
    try:
        EquationSystem.from_dict({**SAVED, "parameters": parameters})
    except DiscoverError:
        pass


ESTIMATOR_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2),
                             st.sampled_from([float("nan"), float("inf"), "", "rk4", "float64", "x", [1]]))
TINY = {"iterations": 2, "prefit_iterations": 2, "lbfgs_iterations": 0, "batch_size": 4, "window": 5,
        "progress": False}


@pytest.fixture(scope="module")
def tiny_data():
    return example_data("fitzhugh_nagumo", n_train=1, n_heldout=1, duration=20.0, seed=0)[0]


@settings(max_examples=max(settings().max_examples // 2, 5), deadline=None,  # each example fits a UDE
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["width", "depth", "window", "batch_size", "iterations", "learning_rate", "lbfgs_iterations",
                        "prefit_iterations", "solver", "substeps", "stride", "dtype", "seed", "threads",
                        "max_recoveries"]),
       ESTIMATOR_VALUES)
def test_ude_with_a_random_setting_fits_or_raises_our_error(tiny_data, name, value):
    try:
        UDE(fhn_known(), **{**TINY, name: value}).fit(tiny_data)
    except DiscoverError as exc:
        assert name in str(exc) or "diverged" in str(exc)


@SETTINGS
@given(ARRAYS, st.dictionaries(st.sampled_from(["V", "I", ""]), ARRAYS, max_size=2),
       st.dictionaries(st.sampled_from(["V", "I", "x"]), st.sampled_from(["mV", "V", "pA", "furlong", ""]), max_size=2),
       st.sampled_from(["s", "ms", "us", "h", ""]))
def test_recording_validates_or_raises_our_error(t, signals, units, time_unit):
    try:
        Recording(t, signals, units, time_unit)
    except DiscoverError:
        pass


@SETTINGS
@given(st.one_of(ARRAYS, st.just(np.array([0.1, 0.2]))), st.one_of(ARRAYS, st.just(np.linspace(0, 5, 11))),
       st.floats(allow_nan=True, allow_infinity=True))
def test_simulate_gives_trajectories_or_our_error(y0, t, noise):
    try:
        simulate(fhn_known().without_residuals(), y0, t, {"I": 0.5}, noise=noise)
    except DiscoverError:
        pass


@SETTINGS
@given(st.sampled_from(["fitzhugh_nagumo", "hodgkin_huxley", "fitzhugh", ""]), st.integers(-1, 2),
       st.integers(-1, 2), st.one_of(st.floats(-1, 1), st.just(float("nan"))),
       st.one_of(st.floats(-5, 5), st.just(float("nan"))))
def test_example_data_gives_trajectories_or_our_error(name, n_train, n_heldout, noise, duration):
    try:
        example_data(name, n_train=n_train, n_heldout=n_heldout, noise=noise, duration=duration)
    except DiscoverError:
        pass
