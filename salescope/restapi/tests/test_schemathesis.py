"""Property tests of the whole API against its own OpenAPI description (schemathesis).

Every operation of ``/api/v1/openapi.json`` gets derandomised generated requests with a
valid token on demo-like data (about half of the path ids point at existing records): no
answer may be a server error or fall outside the described statuses, bodies and content
types. A second pass without credentials expects 401 from every operation but ``/health``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from salescope.restapi.services import create_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PUBLIC = {"GET /api/v1/health"}
EXAMPLES = 15

APP = get_wsgi_application()
SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
OPERATIONS = sorted(
    (op.ok() for op in SCHEMA.get_all_operations()), key=lambda op: (op.path, op.method)
)


def _label(op: Any) -> str:
    return f"{op.method.upper()} {op.path}"


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Any:
    """Requests go straight to the WSGI app: keep it from closing the test's connection
    (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def demo_data(org_setup: Any, frozen_now: Any) -> dict[str, list[int]]:
    """A small company with records of every kind; returns known ids by path parameter."""
    from salescope.accounts.models import ContactRole
    from salescope.accounts.services import link_contact
    from salescope.pipeline import services
    from salescope.testing.factories import (
        AccountFactory,
        ActivityFactory,
        ContactFactory,
        make_opportunity,
    )

    s = org_setup
    accounts = [AccountFactory(owner=owner) for owner in (s.rep, s.rep2, s.other_rep)]
    contacts = [ContactFactory(owner=a.owner) for a in accounts]
    role = ContactRole.objects.create(name="Decision maker")
    for account, contact in zip(accounts, contacts, strict=True):
        link_contact(contact=contact, account=account, actor=None, roles=[role])
    opps = [
        make_opportunity(owner=a.owner, stage=s.stages["Meeting"], account=a, name=f"Deal {i}")
        for i, a in enumerate(accounts)
    ]
    services.mark_won(opportunity=opps[1], actor=None)
    services.mark_lost(opportunity=opps[2], reason=s.reason, actor=None)
    activities = [
        ActivityFactory(owner=s.rep, account=accounts[0], opportunity=opps[0]),
        ActivityFactory(owner=s.other_rep, due_on=frozen_now.date() + dt.timedelta(days=2)),
    ]
    token = create_token(user=s.rep, name="own")
    from salescope.customfields.models import CustomFieldDefinition

    field = CustomFieldDefinition.objects.create(
        target="opportunity", key="budget", label="Budget", field_type="number"
    )
    return {
        "opportunity_id": [o.pk for o in opps],
        "account_id": [a.pk for a in accounts],
        "contact_id": [c.pk for c in contacts],
        "activity_id": [a.pk for a in activities],
        "pipeline_id": [s.pipeline.pk, s.other_pipeline.pk],
        "stage_id": [st.pk for st in s.stages.values()],
        "user_id": [s.rep.pk, s.admin.pk, s.readonly.pk],
        "team_id": [s.team.pk, s.other_team.pk],
        "token_id": [token.token.pk],
        "field_id": [field.pk],
    }


def _known_path_parameters(op: Any, known: dict[str, list[int]]) -> Any:
    """Draws path parameters: an existing id where we know one, else whatever is generated."""
    names = [p.name for p in op.path_parameters]
    choices = {n: st.one_of(st.none(), st.sampled_from(known[n])) for n in names if n in known}
    return st.fixed_dictionaries(choices)


@pytest.mark.django_db
@pytest.mark.parametrize("op", OPERATIONS, ids=_label)
def test_operation_conforms_with_a_token(op: Any, demo_data: dict[str, list[int]]) -> None:
    from salescope.org.models import User

    admin = User.objects.get(username="admin")
    headers = {"Authorization": f"Bearer {create_token(user=admin, name='schemathesis').plain}"}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(), ids=_known_path_parameters(op, demo_data))
    def run(case: Any, ids: dict[str, int | None]) -> None:
        for name, value in ids.items():
            if value is not None:
                case.path_parameters[name] = value
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.django_db
@pytest.mark.parametrize("op", OPERATIONS, ids=_label)
def test_operation_needs_authentication(op: Any, org_setup: Any) -> None:
    label = _label(op)
    if label in PUBLIC:
        assert not op.definition.raw.get("security")
        response = op.as_strategy().example().call()
        assert response.status_code == 200
        return
    assert op.definition.raw.get("security"), f"{label} declares no authentication"

    @settings(
        max_examples=3,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
        response = case.call()
        assert response.status_code == 401, (label, response.status_code, response.text[:300])
        assert response.json()["error"]["code"] == "not_authenticated"

    run()
