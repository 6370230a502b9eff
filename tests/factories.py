"""factory_boy factories, and the map the generic API tests use to make one object of
every routed model. A route whose model has no entry here fails the isolation test, so
a new record kind cannot slip past it."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.contenttypes.models import ContentType

from governance.models import Improvement
from sms.core.models import JournalEntry, PlannedActivity
from sms.tenancy.models import Membership


class ImprovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Improvement

    title = factory.Sequence(lambda n: f"Improvement opportunity {n}")
    description = "Reduce manual effort in monthly reporting."
    priority = "2"
    dimension = "productivity"
    target = "Halve the effort (baseline: 2 days)."
    due_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))


class PlannedActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlannedActivity

    kind = "management_review"
    title = factory.Sequence(lambda n: f"Management review {n}")
    next_due = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=10))


class JournalEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JournalEntry

    body = "Called the customer back."
    visibility = "internal"

    @classmethod
    def _create(cls, model_class, *args, record=None, **kwargs):
        kwargs["content_type"] = ContentType.objects.get_for_model(record)
        kwargs["object_id"] = record.pk
        return super()._create(model_class, *args, **kwargs)


def _membership(people):
    return Membership.objects.get(user=people["agent"])


# model -> callable(people) creating one object in the current tenant context.
SAMPLE_OBJECTS = {
    Improvement: lambda people: ImprovementFactory(owner=people["process_owner"], created_by=people["agent"]),
    PlannedActivity: lambda people: PlannedActivityFactory(owner=people["process_owner"]),
    Membership: _membership,
}
