"""Property-based tests: random malformed input to the parser, units, data and configs gives our
own errors (DiscoverError subclasses) or a valid object, never a traceback from numpy or sympy."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from discover import DiscoverError, EquationSystem, Trajectories, config_from_dict
from discover._config import DEMO_CONFIG
from discover.equations import parse_expression
from discover.equations._units import parse_unit

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
                   st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


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
