"""The ``batch`` method (PROTOCOL §7): up to 50 ``"method?query"`` commands run in order, with
``$result[cmd][key]...`` references to earlier results and an optional halt on the first error.

Example request body::

    {"halt": 0, "cmd": {"u": "user.current",
                        "d": "crm.deal.list?filter[ASSIGNED_BY_ID]=$result[u][ID]&select[]=ID"}}
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .api import ApiError, Call, method
from .dispatch import CURRENT, Outcome
from .phpquery import parse_query, php_intval

MAX_COMMANDS = 50
REFERENCE_MAPS = ("result_error", "result_total", "result_next", "result_time", "result")
# Like the core: "$<map>" followed by everything up to the next whitespace; only the [..] groups
# of that tail form the path, but the whole match is what gets replaced.
_REFERENCE = re.compile(r"\$(" + "|".join(REFERENCE_MAPS) + r")(\S*)", re.IGNORECASE)
_PATH_KEY = re.compile(r"\[([^\]]+)\]")
_FALSE_TEXT = {"", "0", "false", "n", "no", "off"}


def batch_length_exceeded() -> ApiError:
    return ApiError("Max batch length exceeded", "ERROR_BATCH_LENGTH_EXCEEDED", 400)


def method_not_allowed() -> ApiError:
    return ApiError("Method is not allowed for batch usage", "ERROR_BATCH_METHOD_NOT_ALLOWED", 405)


def is_halt(value: Any) -> bool:
    """``halt`` as 0/1, true/false, ``"Y"``/``"N"`` (also ``"false"``, which PHP would call true)."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXT
    return bool(value)


def commands_of(cmd: Any) -> list[tuple[str, str]]:
    """``cmd`` as a map or a list -> ``[(name, "method?query"), ...]`` in request order."""
    if isinstance(cmd, dict):
        return [(str(k), "" if v is None else str(v)) for k, v in cmd.items()]
    if isinstance(cmd, (list, tuple)):
        return [(str(i), "" if v is None else str(v)) for i, v in enumerate(cmd)]
    return []


def php_text(value: Any) -> str:
    """A value spliced into a string the way PHP converts it."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return "Array"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _walk(value: Any, path: list[str]) -> Any:
    """Follow ``path`` into ``value``; stop at the first missing key and keep the parent."""
    for key in path:
        if isinstance(value, dict):
            if key in value and value[key] is not None:
                value = value[key]
            elif key.lstrip("-").isdigit() and int(key) in value:
                value = value[int(key)]
            else:
                break
        elif isinstance(value, (list, tuple)) and key.isdigit() and int(key) < len(value):
            if value[int(key)] is None:
                break
            value = value[int(key)]
        else:
            break
    return value


def substitute(value: str, maps: dict[str, dict[str, Any]]) -> Any:
    """Replace ``$result[cmd][k]...`` references in one parameter value.

    A value that is exactly one reference becomes the referenced value itself (it may be a list
    or dict); otherwise each reference is replaced by its text.
    """
    if "$" not in value:
        return value
    matches = list(_REFERENCE.finditer(value))
    for match in matches:
        path = _PATH_KEY.findall(match.group(2))
        if not path:
            continue
        found = _walk(maps[match.group(1).lower()], path)
        if match.group(0) == value:
            return copy.deepcopy(found)  # a copy, as PHP arrays are values (no shared cycles)
        value = value.replace(match.group(0), php_text(found))
    return value


def substitute_all(params: Any, maps: dict[str, dict[str, Any]]) -> Any:
    """Apply :func:`substitute` to every string value of a parsed query, recursively."""
    if isinstance(params, dict):
        return {k: substitute_all(v, maps) for k, v in params.items()}
    if isinstance(params, str):
        return substitute(params, maps)
    return params


@method("batch")
def batch(call: Call, params: dict) -> dict[str, Any]:
    """Run the commands of ``params["cmd"]`` as sub-calls and collect the five result maps."""
    engine, credential = CURRENT.get()
    commands = commands_of(params.get("cmd"))
    if len(commands) > MAX_COMMANDS:
        raise batch_length_exceeded()
    halt = is_halt(params.get("halt", 0))
    maps: dict[str, dict[str, Any]] = {name: {} for name in REFERENCE_MAPS}
    for name, command in commands:
        sub_method, _, query = command.partition("?")
        sub_method = sub_method.strip().lower()
        if sub_method.endswith(".json"):
            sub_method = sub_method[: -len(".json")]
        sub_params = substitute_all(parse_query(query), maps) if query else {}
        start = php_intval(sub_params.pop("start", 0))
        sub_params.pop("auth", None)
        if sub_method == "batch":
            engine.stats.error("ERROR_BATCH_METHOD_NOT_ALLOWED")
            outcome = Outcome(method=sub_method, start=0.0, error=method_not_allowed())
        else:
            outcome = engine.execute(sub_method, sub_params, start, credential)
        if outcome.error is not None:
            maps["result_error"][name] = outcome.error.body()
            if halt:
                break
            continue
        maps["result"][name] = outcome.result
        if outcome.total is not None:
            maps["result_total"][name] = outcome.total
        if outcome.next is not None:
            maps["result_next"][name] = outcome.next
        maps["result_time"][name] = outcome.time_block(engine.config.tz, operating=False)
    return {
        key: maps[key]
        for key in ("result", "result_error", "result_total", "result_next", "result_time")
    }
