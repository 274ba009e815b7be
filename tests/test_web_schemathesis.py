"""Schemathesis against the hiker's /openapi.json: bodies generated from the schema, valid and
not, and the answer is never a server error (5xx) and a 200 always fits its documented schema.

Kept fast and repeatable: a few dozen examples per endpoint, derandomized, and an app with a
short deadline (a generated request for 10,000 steps of six optimisers stops at it).
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from chainrule.web.app import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(deadline=0.5))


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
