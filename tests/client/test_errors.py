"""Error envelope -> exception mapping on the documented samples (no server needed)."""

from __future__ import annotations

import json
import pickle

import pytest
from samples import SAMPLES

from bitrix_frames import errors as E


@pytest.mark.parametrize(
    ("sample", "status", "cls"),
    [
        ("error.ERROR_METHOD_NOT_FOUND.json", 404, E.MethodNotFound),
        ("error.INVALID_CREDENTIALS.json", 403, E.AccessDenied),
        ("error.NO_AUTH_FOUND.json", 401, E.AuthError),
        ("error.QUERY_LIMIT_EXCEEDED.json", 503, E.QueryLimitExceeded),
        ("error.crm.contact.update.not_found.json", 400, E.NotFound),
        ("error.crm.deal.list.filter_not_array.json", 400, E.InvalidArgument),
        ("error.crm.item.get.not_found.json", 400, E.NotFound),
        ("error.crm.item.list.invalid_filter.json", 400, E.InvalidArgument),
        ("error.crm.lead.get.not_found.json", 400, E.NotFound),
        ("error.crm.lead.update.invalid_id.json", 400, E.InvalidArgument),
        ("error.expired_token.json", 401, E.AuthError),
        ("error.insufficient_scope.json", 403, E.InsufficientScope),
        ("error.tasks.task.add.error_core.json", 400, E.InvalidArgument),
        ("error.tasks.task.complete.not_allowed.json", 400, E.AccessDenied),
        ("error.tasks.task.delete.no_access.json", 400, E.AccessDenied),
    ],
)
def test_documented_samples(sample, status, cls):
    body = json.loads((SAMPLES / sample).read_text())
    err = E.from_envelope(body, status=status, method="m.x")
    assert type(err) is cls
    assert (err.code, err.description, err.method, err.status) == (
        body["error"],
        body["error_description"],
        "m.x",
        status,
    )
    assert body["error_description"] in str(err)


def test_codes_are_case_insensitive_and_statuses_fill_gaps():
    assert isinstance(E.from_envelope({"error": "Operation_Time_Limit"}), E.OperationTimeLimit)
    assert isinstance(E.from_envelope(None, status=502), E.ServerError)
    assert isinstance(E.from_envelope({"error": "OVERLOAD_LIMIT"}, status=503), E.ServerError)
    assert isinstance(E.from_envelope({"error": "X"}, status=429), E.OperationTimeLimit)


def test_hierarchy_and_pickling():
    err = E.InsufficientScope("no", code="insufficient_scope", method="crm.deal.list", status=403)
    assert isinstance(err, E.AccessDenied) and isinstance(err, E.BitrixError)
    assert issubclass(E.WebhookURLError, ValueError) and issubclass(E.ValidationError, ValueError)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is E.InsufficientScope and back.status == 403 and back.code == err.code
