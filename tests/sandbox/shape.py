"""Shape comparison of a sandbox response against a docs sample (keys, nesting, value kinds).

Values are classified as ``null``, ``bool``, ``number`` (JSON int/float), ``str:num`` (numeric
string), ``str:dt`` (ISO datetime with offset), ``str:empty``, ``str:text``, ``list``, ``dict``.
Data-dependent differences are tolerated: ``null`` matches any string (unset vs set), strings of
any class match each other except an ISO datetime against a non-empty non-datetime string, and an
empty PHP array ``[]`` matches a dict. Lists are compared element-wise against the sample's first
element. Everything else (a JSON number where the sample has a numeric string, a missing key, a
dict where the sample has a string, a bool where the sample has ``"Y"``) is a mismatch.

Example::

    from shape import assert_same_shape
    assert_same_shape(json.load(open(sample)), response.json(),
                      ignore=lambda key: key.startswith("UF_"))
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from samples import SAMPLES

_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


def load_sample(name: str) -> Any:
    """The parsed JSON of ``samples/<name>`` (``.json`` appended when missing)."""
    if not name.endswith(".json"):
        name += ".json"
    return json.loads((SAMPLES / name).read_text())


def kind(value: Any) -> str:
    """Shape class of one JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        if value == "":
            return "str:empty"
        if _DT.match(value):
            return "str:dt"
        if _NUM.match(value):
            return "str:num"
        return "str:text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def _compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    pair = {a, b}
    if "null" in pair:
        other = (pair - {"null"}).pop()
        return other.startswith("str:") or other == "bool"
    if a.startswith("str:") and b.startswith("str:"):
        return not ("str:dt" in pair and ("str:num" in pair or "str:text" in pair))
    return False


def shape_diff(
    expected: Any,
    actual: Any,
    *,
    path: str = "$",
    ignore: Callable[[str], bool] | None = None,
    allow_extra: bool = False,
    allow_missing: bool = False,
) -> list[str]:
    """List of human-readable differences between the shapes of ``expected`` and ``actual``."""
    ignore = ignore or (lambda key: False)
    ke, ka = kind(expected), kind(actual)
    diffs: list[str] = []
    if (
        ke == "dict"
        and ka == "list"
        and not actual
        or ke == "list"
        and ka == "dict"
        and not expected
    ):
        return diffs
    if not _compatible(ke, ka):
        return [f"{path}: expected {ke} ({expected!r:.60}), got {ka} ({actual!r:.60})"]
    opts = {"ignore": ignore, "allow_extra": allow_extra, "allow_missing": allow_missing}
    if ke == "dict" and ka == "dict":
        for key, value in expected.items():
            if ignore(key):
                continue
            if key not in actual:
                if not allow_missing:
                    diffs.append(f"{path}.{key}: missing")
                continue
            diffs += shape_diff(value, actual[key], path=f"{path}.{key}", **opts)
        if not allow_extra:
            diffs += [
                f"{path}.{k}: unexpected key" for k in actual if k not in expected and not ignore(k)
            ]
    elif ke == "list" and ka == "list" and expected and actual:
        for i, item in enumerate(actual):
            diffs += shape_diff(expected[0], item, path=f"{path}[{i}]", **opts)
    return diffs


def assert_same_shape(expected: Any, actual: Any, **kw: Any) -> None:
    """Assert equal shapes (see :func:`shape_diff`); the envelope's ``time`` key is ignored."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        expected = {k: v for k, v in expected.items() if k != "time"}
        actual = {k: v for k, v in actual.items() if k != "time"}
    diffs = shape_diff(expected, actual, **kw)
    assert not diffs, "shape differs:\n" + "\n".join(diffs[:40])
