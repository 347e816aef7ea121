"""Read the values of one parsed config table, each checked for type and range.

Returns: a `Table` per TOML table whose getters (`integer`, `number`, `boolean`, `string`)
return the value when it is usable and otherwise record one problem naming the key, the value
and what is allowed (`[split] test_size = 0: must be a number > 0 and < 1`), returning a
placeholder; `config.load_config` raises `ConfigError` with every problem once all are read.
Nothing reaches scikit-learn, xgboost, ONNX or MLflow unchecked: a value they would reject
mid-run (a traceback after MLflow's run started) or quietly misread (`"false"` taken as true,
`100.7` rounds cut to 100, an unknown key ignored) is found before anything runs.
"""
from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any


class ConfigError(ValueError):
    """The config's values are unusable; the message is one line listing every problem."""


def toml_text(value: object) -> str:
    """A value as it would be written in the TOML file (`true`, `"auc"`, `0.2`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_text(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    return str(value)  # TOML dates and times


def _bound(value: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def _range_text(kind: str, low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return f"{kind} {' and '.join(parts)}".rstrip()


class Table:
    """One table of the config (`[split]`, `[xgboost]`, …). Unknown keys are problems too: a
    misspelt key would otherwise be ignored and its value silently left at a default."""

    def __init__(self, raw: Mapping[str, Any], name: str, problems: list[str], allowed_keys: Collection[str] | None):
        """`allowed_keys` None: the caller checks the keys (the feature names of [monotone_constraints])."""
        self.name = name
        self.problems = problems
        value = raw.get(name)
        self.missing = not isinstance(value, dict)  # one problem for the table, none for each of its keys
        if value is None:
            problems.append(f"[{name}] is missing: the table with {', '.join(allowed_keys or ())} is required")
            value = {}
        elif not isinstance(value, dict):
            problems.append(f"{name} = {toml_text(value)}: must be a table [{name}]")
            value = {}
        self.values: dict[str, Any] = value
        keys = list(allowed_keys) if allowed_keys is not None else []
        for key in value if allowed_keys is not None else ():
            if key not in keys:
                problems.append(f"[{name}] {key} is not a setting: allowed keys are {', '.join(keys)}")

    def _problem(self, key: str, allowed: str) -> None:
        if self.missing:
            return
        if key in self.values:
            self.problems.append(f"[{self.name}] {key} = {toml_text(self.values[key])}: must be {allowed}")
        else:
            self.problems.append(f"[{self.name}] {key} is missing: must be {allowed}")

    def fail(self, key: str, allowed: str) -> None:
        """Record a problem with `key` found by a check across values (e.g. grid_start < grid_stop)."""
        self._problem(key, allowed)

    def integer(self, key: str, low: int, high: int | None = None) -> int:
        value = self.values.get(key)
        text = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        if isinstance(value, bool) or not isinstance(value, int) or not _bound(value, low, high, False, False):
            self._problem(key, text)
            return low
        return value

    def number(self, key: str, low: float | None, high: float | None, *, low_open: bool = False,
               high_open: bool = False) -> float:
        value = self.values.get(key)
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or not _bound(value, low, high, low_open, high_open)):
            self._problem(key, _range_text("a number", low, high, low_open, high_open))
            return low if low is not None else 0.0
        return value  # as written: an int stays an int (the params logged and written in the manifest are its str)

    def boolean(self, key: str) -> bool:
        value = self.values.get(key)
        if not isinstance(value, bool):  # bool("false") is True: a quoted value must not pass
            self._problem(key, "true or false")
            return False
        return value

    def string(self, key: str, choices: Collection[str] | None = None) -> str:
        value = self.values.get(key)
        if choices is not None:
            if value not in choices:
                self._problem(key, "one of " + ", ".join(json.dumps(c) for c in choices))
                return ""
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self._problem(key, "a non-empty string")
            return ""
        return value
