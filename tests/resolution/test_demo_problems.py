"""Demo data of problem management: problems in several states linked to the demo
incidents, a known error with its workaround linked to incidents, a problem resolved
through a request for change, reviewed and closed; seeded idempotently."""

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from processes.resolution.models import Incident, KnownError, Problem
from sms.core.models import RecordLink
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_problems_and_known_errors(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            problems = list(Problem.objects.prefetch_related("incidents", "reviews"))
            assert len(problems) >= 4
            assert {"new", "under_investigation", "known_error", "closed"} <= {p.state for p in problems}
            assert all(p.incidents.all() for p in problems)
            closed = next(p for p in problems if p.state == "closed")
            assert closed.needs_change and closed.rfc_reference and closed.reviews.all()
            assert KnownError.objects.filter(problem=closed, state="retired").exists()
            open_kes = KnownError.objects.filter(state="open")
            assert open_kes.count() >= 4 and all(ke.workaround for ke in open_kes)
            assert RecordLink.objects.filter(
                source_type=ContentType.objects.get_for_model(Incident),
                target_type=ContentType.objects.get_for_model(KnownError),
            ).exists()
            counts[tenant.slug] = (len(problems), KnownError.objects.count())
    assert set(counts) == {"northwind", "contoso"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=counts):
        with context.tenant_context(tenant):
            assert counts[tenant.slug] == (Problem.objects.count(), KnownError.objects.count())
