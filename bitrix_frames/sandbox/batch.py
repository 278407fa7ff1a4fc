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
MAPS = ("result", "next", "total", "time", "error")
"""The core's internal result maps, in its order (``CRestProvider::methodsBatch``): references name
these (``$result[c]``, ``$next[c]``, ``$total[c]``, ``$time[c]``, ``$error[c]``); the response
renames them ``result``, ``result_next`` ... only on the way out."""
# Like ``CRestUtil::processBatchElement``: "$<map>" (case-insensitive, first alternative wins, so
# "$result_next[c]" is "$result" + "_next[c]") followed by everything up to the next PCRE
# whitespace; the [..] groups of that tail form the path, the whole match is what gets replaced.
_REFERENCE = re.compile(r"\$(" + "|".join(MAPS) + r")([^ \t\n\x0b\f\r]*)", re.IGNORECASE)
_PATH_KEY = re.compile(r"\[([^\]]+)\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]{0,18})$")
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


def split_command(command: str) -> tuple[str, str]:
    """``"method?query#fragment"`` -> (method, query), as the core's ``parse_url`` splits it:
    control characters become ``_`` and a literal ``#`` ends the query.

    >>> split_command("crm.deal.add?fields[TITLE]=Deal #5")
    ('crm.deal.add', 'fields[TITLE]=Deal ')
    """
    command = _CONTROL.sub("_", command)
    cut = min((i for i in (command.find("?"), command.find("#")) if i != -1), default=-1)
    if cut == -1:
        return command, ""
    if command[cut] == "#":
        return command[:cut], ""
    return command[:cut], command[cut + 1 :].partition("#")[0]


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
    """Follow ``path`` into ``value`` like PHP's ``isset($r[$key])`` loop; stop at the first missing
    key and keep the parent (a string is indexed by character, as in PHP)."""
    for key in path:
        if isinstance(value, dict):
            if key in value and value[key] is not None:
                value = value[key]
            elif _is_php_int(key) and value.get(int(key)) is not None:
                value = value[int(key)]
            else:
                break
        elif isinstance(value, (list, tuple)) and _is_php_int(key) and 0 <= int(key) < len(value):
            if value[int(key)] is None:
                break
            value = value[int(key)]
        elif isinstance(value, str) and _is_php_int(key) and -len(value) <= int(key) < len(value):
            value = value[int(key)]
        else:
            break
    return value


def _is_php_int(key: str) -> bool:
    """A canonical decimal integer, the array keys PHP stores as integers ("07" stays a string)."""
    return _CANONICAL_INT.match(key) is not None


def substitute(value: str, maps: dict[str, Any]) -> Any:
    """Replace ``$result[cmd][k]...`` references in one parameter value, as the core does.

    A value that is exactly one reference becomes the referenced value itself (it may be a list
    or dict); otherwise each reference is replaced by its text. The map name matches in any case
    but is looked up as written (PHP array keys are case-sensitive), so ``$RESULT[c]`` becomes
    empty. There is no escape: ``\\$result[c]`` or ``%24result[c]`` are substituted too.

    >>> substitute("Price: $result[c][0] USD", {"result": {"c": [5]}})
    'Price: 5 USD'
    """
    if "$" not in value:
        return value
    current: Any = value
    for match in list(_REFERENCE.finditer(value)):
        path = _PATH_KEY.findall(match.group(2))
        if not path:
            continue
        found = _walk(maps.get(match.group(1)), path)
        if match.group(0) == current:
            current = copy.deepcopy(found)  # a copy, as PHP arrays are values (no shared cycles)
        elif isinstance(current, str):
            current = current.replace(match.group(0), php_text(found))
    return current


def substitute_all(params: Any, maps: dict[str, Any]) -> Any:
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
    maps: dict[str, Any] = {name: {} for name in MAPS}
    for name, command in commands:
        sub_method, query = split_command(command)
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
            maps["error"][name] = outcome.error.body()
            if halt:
                break
            continue
        maps["result"][name] = outcome.result
        if outcome.total is not None:
            maps["total"][name] = outcome.total
        if outcome.next is not None:
            maps["next"][name] = outcome.next
        maps["time"][name] = outcome.time_block(engine.config.tz, operating=False)
    return {
        "result": maps["result"],
        "result_error": maps["error"],
        "result_total": maps["total"],
        "result_next": maps["next"],
        "result_time": maps["time"],
    }
