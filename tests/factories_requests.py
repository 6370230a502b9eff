"""Factories of service request fulfilment (processes.resolution, clause 8.1), and their
entries in ``tests.factories.SAMPLE_OBJECTS`` (imported at the end of that module)."""

from __future__ import annotations

import factory

from tests.factories import SAMPLE_OBJECTS, ServiceFactory

LAPTOP_QUESTIONS = [
    {"label": "Model", "type": "choice", "required": True, "choices": ["13-inch", "15-inch"]},
    {"label": "Needed by", "type": "date", "required": True},
    {"label": "Reason", "type": "textarea"},
]
LAPTOP_TASKS = [{"title": "Order the laptop"}, {"title": "Install the image"}, {"title": "Hand it over"}]


class CatalogueItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resolution.CatalogueItem"

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"New laptop {n}")
    description = "A laptop with the standard image."
    fields = factory.LazyFunction(lambda: [dict(q) for q in LAPTOP_QUESTIONS])
    tasks = factory.LazyFunction(lambda: [dict(t) for t in LAPTOP_TASKS])
    approval = "none"
    priority = 4

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        approvers = kwargs.pop("approvers", None)
        item = model_class(**kwargs)
        item.clean()
        item.save()
        if approvers:
            item.approvers.set(approvers)
        return item


def submit_request(item, by, answers=None, **kwargs):
    """A request submitted through the service, as the API and the pages do."""
    from processes.resolution import services_requests as sr

    if answers is None:
        answers = {"model": "13-inch", "needed_by": "2026-04-01"}
    return sr.submit(item, by=by, answers=answers, **kwargs)


def _catalogue_item(people):
    return CatalogueItemFactory(approval="named", approvers=[people["process_owner"]])


def _service_request(people):
    """A request that was approved and is in fulfilment, with its decision and tasks, so
    that lists exercise every related row."""
    from sms.core.workflow import run_transition

    item = CatalogueItemFactory(approval="role", approver_role="process_owner")
    req = submit_request(item, by=people["agent"], owner=people["agent"], assignee=people["agent"])
    req = run_transition(req, "approve", by=people["process_owner"], reason="Within budget.")
    return run_transition(req, "start", by=people["agent"])


def _fulfilment_task(people):
    return _service_request(people).tasks.order_by("position").first()


def _register() -> None:
    from processes.resolution.models import CatalogueItem, FulfilmentTask, ServiceRequest

    SAMPLE_OBJECTS.update(
        {
            ServiceRequest: _service_request,
            CatalogueItem: _catalogue_item,
            FulfilmentTask: _fulfilment_task,
        }
    )


_register()
