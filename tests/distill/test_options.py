"""`DistillOptions`: the schema's defaults, one field per key, checked once."""

from __future__ import annotations

import dataclasses

import pytest

from discover import ConfigError
from discover._schema import _MISSING, DISTILL
from discover.distill import DistillOptions, check_distill_options


def test_one_field_per_schema_key_with_the_schemas_default():
    options = DistillOptions()
    assert tuple(f.name for f in dataclasses.fields(DistillOptions)) == DISTILL.names()
    for key in DISTILL.keys:
        value = getattr(options, key.name)
        if key.default is _MISSING:  # decided by the model: `round`
            assert value is None
        else:
            assert (list(value) if isinstance(value, tuple) else value) == key.default, key.name


def test_round_follows_the_model_unless_set():
    assert DistillOptions().rounding(spiking=False) and not DistillOptions().rounding(spiking=True)
    assert not DistillOptions(round=False).rounding(spiking=False)
    assert DistillOptions(round=True).rounding(spiking=True)


def test_from_mapping_checks_once_and_keeps_an_options_object():
    options = DistillOptions.from_mapping({"backends": ["sparse"], "sparse": {"degree": 2}, "tolerance": 2})
    assert options.backends == ("sparse",) and options.sparse == {"degree": 2} and options.tolerance == 2.0
    assert DistillOptions.from_mapping(options) is options
    assert check_distill_options(options) is options
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize("options, message", [
    ({"rout": "ude"}, "unknown distill option 'rout'"),
    ({"route": "both"}, "distill route 'both' is not one of"),
    ({"backends": ["sindy"]}, "distill backend 'sindy' is not one of"),
    ({"sparse": {"degre": 2}}, "unknown sparse distill option 'degre'"),
    ({"selection": 0.5}, "distill selection must be a fraction in [0, 0.5)"),
    ({"refit_candidates": -1}, "refit_candidates must be a whole number >= 0"),
    ({"choose_by": "aic"}, "distill choose_by must be 'resimulation' or 'residual', got 'aic'"),
    ({"round": "false"}, "distill round must be true or false, got 'false'"),
    ({"tolerance": "1.5"}, "distill tolerance must be a number, got '1.5'"),
])
def test_a_bad_value_is_refused_with_its_message(options, message):
    with pytest.raises(ConfigError) as error:
        DistillOptions.from_mapping(options)
    assert message in str(error.value)
