"""The configuration reference of the docs, generated from the schema and the estimators' signatures.

Kept apart from `_schema` because it reads `UDE`, `SparseDistiller`, `SymbolicDistiller` and
`LatentODE`: the schema itself sits below every stage (the distillers read their defaults from it),
so it must import none of them.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._schema import (
    _MISSING,
    CELL,
    DATA,
    DISTILL,
    GATE_DOC,
    GATE_DOCS,
    LATENT_DOCS,
    LATENT_EXCLUDED,
    MODEL,
    OUTPUT,
    POPULATION,
    RESIDUAL,
    SPARSE_DOCS,
    SYMBOLIC_DOCS,
    TRAINING_DOCS,
    TRAINING_EXCLUDED,
    Key,
    Section,
)
from .distill import SparseDistiller, SymbolicDistiller
from .latent import LatentODE
from .ude import UDE


def _estimator_section(name: str, doc: str, cls: type, docs: dict[str, str], exclude=()) -> Section:
    keys = []
    for p in inspect.signature(cls).parameters.values():
        if p.name in exclude:
            continue
        keys.append(Key(p.name, _toml_type(str(p.annotation)), docs.get(p.name, ""), p.default))
    return Section(name, doc, tuple(keys))


def _gate_section() -> Section:
    from ._gate_run import gate_keywords

    keys = [Key("name", "string", GATE_DOCS["name"]), Key("voltage", "string", GATE_DOCS["voltage"], "V")]
    keys += [Key(k, _toml_type(str(p.annotation)), GATE_DOCS[k], p.default) for k, p in gate_keywords().items()]
    return Section("gate", GATE_DOC, tuple(keys))


def sections() -> tuple[Section, ...]:
    """Every section of a config file, in the order of the reference."""
    return (
        DATA, MODEL, RESIDUAL, CELL, _gate_section(),
        _estimator_section("training", "How the UDE is trained: keyword arguments of `discover.UDE`.", UDE,
                           TRAINING_DOCS, TRAINING_EXCLUDED),
        DISTILL,
        _estimator_section("distill.sparse", "Keyword arguments of `discover.SparseDistiller`.", SparseDistiller,
                           SPARSE_DOCS),
        _estimator_section("distill.symbolic", "Keyword arguments of `discover.distill.SymbolicDistiller`.",
                           SymbolicDistiller, SYMBOLIC_DOCS),
        POPULATION,
        _estimator_section("latent", "How the latent model is fitted (with [population]): keyword arguments of "
                           "`discover.latent.LatentODE`.", LatentODE, LATENT_DOCS, LATENT_EXCLUDED),
        OUTPUT,
    )


def toml_value(value: Any) -> str:
    """A default as it would be written in TOML ('' for none)."""
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


_TYPES = {"int": "integer", "float": "float", "str": "string", "bool": "boolean",
          "Sequence[str]": "list of strings", "Sequence[float]": "list of floats"}


def _toml_type(annotation: str) -> str:
    """A signature's annotation in TOML words ("Sequence[float] | None" -> "list of floats")."""
    parts = [a.strip() for a in annotation.split("|") if a.strip() != "None"]
    return " or ".join(_TYPES.get(a, a) for a in parts)


def config_reference() -> str:
    """The configuration reference as Markdown: one table per section."""
    out = []
    for section in sections():
        out += [f"## `[{section.name}]`", "", section.doc, "", "| key | type | default | meaning |",
                "|---|---|---|---|"]
        for k in section.keys:
            default = toml_value(k.default)
            group = f" *({k.group} data)*" if section in (DATA, POPULATION) and k.group in (
                "example", "npz", "recording") else ""
            out.append(f"| `{k.name}` | {k.type} | {f'`{default}`' if default else ''} | {k.doc}{group} |")
        out.append("")
    return "\n".join(out)
