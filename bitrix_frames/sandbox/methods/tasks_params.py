"""Task parameters and errors: ``taskId``, array arguments, ``ERROR_CORE`` messages as the core joins them."""

from __future__ import annotations

from typing import Any

from ..api import ApiError
from ..values import php_str
from .crm_dicts import param

# --- errors -------------------------------------------------------------------------------------

NOT_ALLOWED = ("Action on the task is not allowed", "0")


def core_error(messages: list[str]) -> ApiError:
    """ERROR_CORE with every message followed by ``<br>`` (the core joins them that way)."""
    return ApiError("".join(f"{m}<br>" for m in messages), "ERROR_CORE")


def parse_task_id(params: dict) -> int:
    raw = param(params, "taskId", "id")
    if raw is None or raw == "":
        raise ApiError(
            "CTaskItem All parameters in the constructor must have real class type"
            " (internal error)",
            "100",
        )
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ApiError("wrong task id", "0")
    return value


def array_arg(params: dict, name: str) -> Any:
    value = param(params, name)
    if value is None:
        return None  # an empty string is no array either (tasks-task-get.md: "Invalid value {}")
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        raise ApiError(
            f"Invalid value {{{php_str(value)}}} to match with parameter {{{name}}}."
            " Should be value of type array. (internal error)",
            "100",
        )
    return value
