"""An API error answer keeps none of the request's writes (sms/core/api/errors.py): the
tenant middleware holds the request in one transaction, and the exception handler marks
it for rollback. The token endpoint alone keeps what a refused sign-in wrote, so that
failures count towards the lockout."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from sms.tenancy.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"


def last_used(client) -> object:
    key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    return ApiToken.objects.get(digest=ApiToken.hash_key(key)).last_used_at


def test_a_refused_request_keeps_none_of_its_writes(api):
    auditor = api("auditor")
    assert last_used(auditor) is None
    # Authenticating records the token's use; the auditor may not create: 403, and the
    # record of the use goes with the rest of the request.
    assert auditor.post(INCIDENTS, {"title": "Not mine to log"}, format="json").status_code == 403
    assert last_used(auditor) is None
    # A request that succeeds keeps it.
    assert auditor.get(INCIDENTS).status_code == 200
    assert last_used(auditor) is not None


@override_settings(AXES_FAILURE_LIMIT=3)
def test_refused_token_requests_still_count_towards_the_lockout(personas, tenant_a):
    client = APIClient()
    body = {"username": personas["agent"].username, "tenant": tenant_a.slug}
    for _ in range(3):
        refused = client.post("/api/v1/auth/token/", {**body, "password": "wrong"}, format="json")
        assert refused.status_code in (400, 403)
    # The right password is refused too now: the failures were kept.
    locked = client.post("/api/v1/auth/token/", {**body, "password": PASSWORD}, format="json")
    assert locked.status_code != 201
