"""The config reference, generated from the pydantic schema of :mod:`isingneuron.config`.

``isingneuron config --schema`` prints it; ``docs/config.md`` is this text
(a test keeps the two equal). Every key, its type, default, allowed values or
range and its description come from the models themselves, so the reference
cannot drift from what the validator accepts.
"""
from __future__ import annotations

import typing
from typing import Any, Literal, Union

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import config as _cfg

__all__ = ["config_reference"]

_PROTOCOLS = (_cfg.ConstantSpec, _cfg.QuenchSpec, _cfg.QuenchTrainSpec, _cfg.RampSpec,
              _cfg.TableSpec, _cfg.PopulationSpec)
_SECTIONS = (("lattice", _cfg.LatticeSpec), ("analysis", _cfg.AnalysisSpec),
             ("executor", _cfg.ExecutorSpec), ("sweep", _cfg.SweepSpec))


def _type(tp) -> str:
    """A short human name of a type annotation."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is Literal:
        return " \\| ".join(str(a) for a in args)
    if origin is Union and set(args) >= set(_PROTOCOLS):
        return "section: one of the kinds below"
    if origin is Union:
        names = [_type(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" or none" if type(None) in args else "")
    if origin in (list, tuple):
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if tp is Any:
        return "number or list (checked by the protocol)"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "section"
    return getattr(tp, "__name__", str(tp))


def _metadata(tp):
    """Constraint objects inside an annotation (Optional[Annotated[int, Field(ge=1)]] too)."""
    if typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        return list(args[1:]) + _metadata(args[0])
    return [m for a in typing.get_args(tp) for m in _metadata(a)]


def _number(v) -> str:
    return "2**63" if v == 2**63 else str(v)


def _limits(info) -> str:
    out = []
    for m in list(info.metadata) + _metadata(info.annotation):
        for c in getattr(m, "metadata", [m]):
            for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"),
                             ("min_length", "length >=")):
                v = getattr(c, key, None)
                if v is not None and f"{sym} {_number(v)}" not in out:
                    out.append(f"{sym} {_number(v)}")
    return ", ".join(out)


def _default(info) -> str:
    if info.is_required():
        return "**required**"
    d = info.default
    if d is PydanticUndefined or isinstance(d, BaseModel):
        return "(section defaults)"
    return "none" if d is None else f"`{d}`"


def _rows(model, prefix=""):
    for name, info in model.model_fields.items():
        if name == "kind" and prefix.startswith("protocol"):
            continue
        doc = info.json_schema_extra or {}       # protocol parameters: as the schedule checks
        yield (f"`{prefix}{name}`", doc.get("doc_type") or _type(info.annotation),
               doc.get("doc_allowed") or _limits(info), _default(info),
               (info.description or "").replace("|", "\\|"))


def _table(rows) -> list[str]:
    out = ["| key | type | allowed | default | meaning |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {' | '.join(r)} |" for r in rows]
    return out


def config_reference() -> str:
    """Markdown reference of every config key (see the module docstring)."""
    lines = ["# Config reference", "",
             "Generated from the schema (`isingneuron config --schema`); every key is "
             "checked at load, unknown keys are refused. Temperatures are in J (k_B = J = 1) "
             "unless a protocol says `units: Tc`; times are in sweeps.", "",
             "## Top level", ""]
    lines += _table(_rows(_cfg.Config))
    for name, model in _SECTIONS:
        lines += ["", f"## `{name}`", "", (model.__doc__ or "").strip(), ""]
        lines += _table(_rows(model, f"{name}."))
    lines += ["", "## `protocol`", "",
              "One of these kinds (`protocol.kind`), with its keys:"]
    for model in _PROTOCOLS:
        kind = typing.get_args(model.model_fields["kind"].annotation)[0]
        lines += ["", f"### `kind: {kind}`", "", (model.__doc__ or "").strip(), ""]
        lines += _table(_rows(model, "protocol."))
    lines += ["", "### `gaussian_quenches` of a population", "",
              (_cfg.GaussianSpec.__doc__ or "").strip(), ""]
    lines += _table(_rows(_cfg.GaussianSpec, "protocol.gaussian_quenches."))
    lines += ["", "## Sweeps", "",
              "Any key above but `output`, `executor`, `analysis`, `name` and `sweep` can be "
              "varied with its dotted path (`protocol.depth`, `lattice.L`, `dynamics`, "
              "`update`, or a whole `protocol`). Every point is validated at load and has a "
              "stable id (a hash of its parameters) and its own seed.", ""]
    return "\n".join(lines)
