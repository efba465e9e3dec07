"""Error types. Every error names the argument, the value received and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any


class DiscoverError(Exception):
    """Base class of every error `discover` raises on purpose."""


class EquationError(DiscoverError, ValueError):
    """An equation, expression or equation system is malformed."""


class NonFiniteNumberError(EquationError):
    """An expression holds a number that is not finite (1e999, 1/0, or a constant that overflows)."""


class DataError(DiscoverError, ValueError):
    """Data (arrays or files) cannot be used as given."""


class ConfigError(DiscoverError, ValueError):
    """A configuration file or option is invalid."""


class FitError(DiscoverError, RuntimeError):
    """Training or distillation could not produce a usable result."""


def sentence(text: str) -> str:
    """`text` ended by exactly one full stop. Messages embed others (an exception's, a hint) that
    may end a sentence already: appending "." to those printed "column 1.."."""
    text = str(text).rstrip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean `x`?' for the closest choice, or '' when none is close."""
    choices = list(choices)
    exact_case = [c for c in choices if c.lower() == str(name).lower()]
    close = exact_case or difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def check_keywords(section: str, options, cls: type, exclude: tuple[str, ...] = ()) -> dict:
    """Check that `options` are keyword arguments of `cls` (a config section), suggesting close names."""
    import inspect

    if not hasattr(options, "keys"):
        raise ConfigError(f"{section} options must be a table of name = value, got {options!r}.")
    allowed = [p for p in inspect.signature(cls).parameters if p not in exclude]
    for key in options:
        if key not in allowed:
            raise ConfigError(f"unknown {section} option {key!r}; allowed: {', '.join(allowed)}."
                              f"{did_you_mean(key, allowed)}")
    return dict(options)


def check_keys(where: str, table: Mapping[str, Any], allowed: tuple[str, ...] | None) -> None:
    """Check `table` is a table with only `allowed` keys (any keys when `allowed` is None)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table, got {table!r}.")
    if allowed is None:
        return
    for key in table:
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r} in {where}; allowed: {', '.join(allowed)}."
                              f"{did_you_mean(key, allowed)}")
