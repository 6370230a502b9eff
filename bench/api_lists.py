"""Benchmark: queries and time per list page (API and browser) and search as the table grows.

Run with ``./dev bench api_lists`` or ``DATABASE_URL=... python bench/api_lists.py``. Uses a scratch
tenant in the configured database (created and left in place, named bench-<pid>), and
prints a table: rows in the table, page size, queries per request, median ms.
Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms.settings")
os.environ.setdefault("SMS_DEV", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from governance.models import Improvement  # noqa: E402
from sms.core.models import PlannedActivity  # noqa: E402
from sms.tenancy import context  # noqa: E402
from sms.tenancy.models import ApiToken, Membership  # noqa: E402
from sms.tenancy.services import add_member, create_tenant  # noqa: E402


def main() -> None:
    slug = f"bench-{os.getpid()}"
    tenant = create_tenant(slug, "Benchmark tenant")
    user, _ = get_user_model().objects.get_or_create(username=f"{slug}-admin")
    add_member(tenant, user, ["admin"])
    with context.tenant_context(tenant, user):
        _, key = ApiToken.issue(Membership.objects.get(user=user))
    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    paths = (
        (api, "/api/v1/improvements/"), (api, "/api/v1/planned-activities/"),
        (browser, f"/t/{slug}/improvements/"), (browser, f"/t/{slug}/planned/"),
        (api, "/api/v1/search/?q=bench"), (browser, f"/t/{slug}/search/?q=bench"),
    )
    print(f"{'endpoint':36} {'rows':>6} {'page':>5} {'queries':>8} {'median ms':>10}")
    total = 0
    for target in (10, 100, 1000):
        with context.tenant_context(tenant, user):
            for i in range(total, target):
                Improvement.objects.create(title=f"Bench improvement {i}", owner=user, priority="3")
                PlannedActivity.objects.create(kind="management_review", title=f"Bench {i}",
                                               next_due="2027-01-01", owner=user)
        total = target
        for client, path in paths:
            for page in (25, 100) if "search" not in path else (50,):
                url = f"{path}{'&' if '?' in path else '?'}page_size={page}"
                client.get(url)
                times = []
                for _ in range(7):
                    with CaptureQueriesContext(connection) as ctx:
                        start = time.perf_counter()
                        resp = client.get(url)
                        times.append((time.perf_counter() - start) * 1000)
                    assert resp.status_code == 200, resp.content
                shown = path.replace(slug, "<t>")
                print(f"{shown:36} {total:6} {page:5} {len(ctx.captured_queries):8} {statistics.median(times):10.1f}")


if __name__ == "__main__":
    main()
