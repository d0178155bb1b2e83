"""Import presets: ready-made mappings for the exports of other CRMs and known data sets.

Each preset is a TOML file beside this module (``<name>.toml``): a mapping spec (see
:mod:`salescope.imports.mapping`) plus an optional ``[detect]`` table whose ``headers`` list
header sets that identify the format (a table matches a set when it has every header of it).
Where TOML is not enough, a preset registers a hook with :func:`hook`: a function that gets
the tables before the import and returns them changed (e.g. splitting a combined column).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from salescope.imports.mapping import MappingSpec
from salescope.imports.reading import Table

HERE = Path(__file__).resolve().parent
#: The mapping presets. A full Salescope export needs none: its manifest identifies it.
NAMES: tuple[str, ...] = ("maven", "salesforce", "hubspot", "pipedrive", "odoo")

TableHook = Callable[[list[Table]], list[Table]]
_HOOKS: dict[str, TableHook] = {}


def hook(name: str) -> Callable[[TableHook], TableHook]:
    """Register ``fn(tables) -> tables`` to run before importing with preset ``name``."""

    def register(fn: TableHook) -> TableHook:
        _HOOKS[name] = fn
        return fn

    return register


def available() -> list[str]:
    """The presets whose TOML file exists, in the documented order."""
    return [name for name in NAMES if (HERE / f"{name}.toml").exists()]


@cache
def _raw(name: str) -> dict[str, Any]:
    if name not in NAMES or not (HERE / f"{name}.toml").exists():
        raise ValidationError(
            {
                "preset": _("Unknown preset %(name)r; available are %(available)s.")
                % {"name": name, "available": ", ".join(available())}
            }
        )
    with (HERE / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


def preset_dict(name: str) -> dict[str, Any]:
    """The mapping of preset ``name`` as a dict (without its detection rules)."""
    data = dict(_raw(name))
    data.pop("detect", None)
    return data


def load_preset(name: str) -> MappingSpec:
    return MappingSpec.from_dict(preset_dict(name))


def signatures(name: str) -> list[frozenset[str]]:
    detect = _raw(name).get("detect", {})
    return [frozenset(h.strip().lower() for h in group) for group in detect.get("headers", [])]


def detect_preset(tables: Sequence[Table]) -> str | None:
    """The preset whose header sets match the most tables (at least one), or None."""
    best, best_score = None, 0
    for name in available():
        sigs = signatures(name)
        if not sigs:
            continue
        score = 0
        for table in tables:
            headers = {h.strip().lower() for h in table.headers}
            if any(sig <= headers for sig in sigs):
                score += 1
        if score > best_score:
            best, best_score = name, score
    return best


def apply_hooks(name: str | None, tables: list[Table]) -> list[Table]:
    if name and name in _HOOKS:
        return _HOOKS[name](tables)
    return tables


# Presets whose TOML is not enough register their hooks when imported.
from salescope.imports.presets import hooks_odoo, hooks_salesforce  # noqa: E402, F401
