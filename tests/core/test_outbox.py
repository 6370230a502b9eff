"""The notification outbox: queued in the event's transaction, sent after commit, retried
when mail is down, visible to administrators in the browser and over the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from sms.core import outbox
from sms.core.models import OutboundMessage
from sms.core.models.outbox import MAX_ATTEMPTS, MessageStatus
from sms.core.tasks import sweep_outbox
from sms.tenancy import context
from tests.factories import ImprovementFactory


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def down(monkeypatch):
    """The mail server refuses every message until ``down.up()``."""

    class Switch:
        def __init__(self):
            self.original = EmailMessage.send
            monkeypatch.setattr(EmailMessage, "send", self.fail)

        @staticmethod
        def fail(*args, **kwargs):
            raise ConnectionRefusedError("mail server down")

        def up(self):
            monkeypatch.setattr(EmailMessage, "send", self.original)

    return Switch()


def queue(tenant, user, *addresses, **kwargs):
    with context.tenant_context(tenant, user):
        record = ImprovementFactory()
        return outbox.queue_mail(addresses, "Subject", "Body", record=record, topic="test", **kwargs)


def test_queued_in_the_transaction_and_sent_after_commit(personas, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        messages = queue(tenant_a, personas["agent"], "a@example.test", "A@example.test ", "", "b@example.test")
    assert [m.recipient for m in messages] == ["a@example.test", "b@example.test"]  # one per address
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "b@example.test"]
    with context.tenant_context(tenant_a):
        rows = list(OutboundMessage.objects.order_by("recipient"))
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
    assert all(r.sent_at and r.content_type_id and r.object_id for r in rows)


def test_rolled_back_event_sends_nothing(personas, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), context.tenant_context(tenant_a, personas["agent"]):
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.queue_mail(["a@example.test"], "S", "B")
            raise RuntimeError("the event failed")
        assert not OutboundMessage.objects.exists()
    assert mail.outbox == []


def test_failed_then_retried_by_the_sweep(personas, tenant_a, down, monkeypatch,
                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = queue(tenant_a, personas["agent"], "caller@example.test")
    with context.tenant_context(tenant_a):
        message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)
    assert "mail server down" in message.last_error
    assert message.next_attempt_at > timezone.now()
    # Not due yet: the sweep leaves it alone.
    assert sweep_outbox() == 0
    down.up()
    later = timezone.now() + dt.timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert sweep_outbox() == 1  # eager Celery: the tenant's due messages went out
    with context.tenant_context(tenant_a):
        message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")
    assert [m.to for m in mail.outbox] == [["caller@example.test"]]


def test_gives_up_after_max_attempts_then_manual_retry(api, personas, tenant_a, down, monkeypatch):
    (message,) = queue(tenant_a, personas["agent"], "caller@example.test")
    moment = timezone.now()
    with context.tenant_context(tenant_a):
        for _ in range(MAX_ATTEMPTS):
            moment += dt.timedelta(days=1)
            outbox.send_one(message.pk, now=moment)
        message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, MAX_ATTEMPTS)
    assert api("agent").post(f"/api/v1/outbox/{message.pk}/retry/").status_code == 403
    down.up()
    resp = api("admin").post(f"/api/v1/outbox/{message.pk}/retry/")
    assert resp.status_code == 200 and resp.json()["status"] == "queued"
    with context.tenant_context(tenant_a):
        assert outbox.send_due() == {"sent": 1, "queued": 0, "failed": 0, "skipped": 0}
        message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == MAX_ATTEMPTS + 1


def test_two_senders_never_send_the_same_message_twice(personas, tenant_a):
    (message,) = queue(tenant_a, personas["agent"], "caller@example.test")
    with context.tenant_context(tenant_a):
        assert outbox.send_one(message.pk) == "sent"
        assert outbox.send_one(message.pk) is None
    assert len(mail.outbox) == 1


def test_api_is_read_only_with_status_filter(api, personas, tenant_a, down):
    (failed,) = queue(tenant_a, personas["agent"], "x@example.test")
    with context.tenant_context(tenant_a):
        OutboundMessage.objects.filter(pk=failed.pk).update(status="failed", attempts=MAX_ATTEMPTS)
    queue(tenant_a, personas["agent"], "y@example.test")
    client = api("auditor")
    rows = client.get("/api/v1/outbox/", {"status": "failed"}).json()["results"]
    assert [r["recipient"] for r in rows] == ["x@example.test"]
    assert rows[0]["record"]["kind"] == "improvement" and rows[0]["can_retry"] is True
    assert client.get("/api/v1/outbox/", {"status": "nonsense"}).status_code == 400
    assert client.post("/api/v1/outbox/", {"recipient": "z@example.test"}, format="json").status_code in (403, 405)
    assert api("admin").post("/api/v1/outbox/", {"recipient": "z@example.test"}, format="json").status_code == 405
    assert api("admin").patch(f"/api/v1/outbox/{failed.pk}/", {"subject": "x"}, format="json").status_code == 405
    assert api("outsider_admin").get(f"/api/v1/outbox/{failed.pk}/").status_code == 404


def test_outbox_page(web, personas, tenant_a, down):
    (message,) = queue(tenant_a, personas["agent"], "x@example.test")
    with context.tenant_context(tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(status="failed", last_error="Refused")
    page = web("admin").get("/t/acme/outbox/?status=failed")
    assert page.status_code == 200
    assert b"x@example.test" in page.content and b"Retry" in page.content and b"Refused" in page.content
    assert b"x@example.test" not in web("admin").get("/t/acme/outbox/?status=sent").content
    # Agents may look (as auditors do), but only administrators retry.
    assert b"Retry</button>" not in web("agent").get("/t/acme/outbox/").content
    assert web("agent").post(f"/t/acme/outbox/{message.pk}/retry/").status_code == 403
    resp = web("admin").post(f"/t/acme/outbox/{message.pk}/retry/")
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        assert OutboundMessage.objects.get(pk=message.pk).status == "queued"
    assert web("outsider_admin").get("/t/acme/outbox/").status_code == 404


def test_planned_activity_reminder_goes_through_the_outbox(personas, tenant_a, django_capture_on_commit_callbacks):
    from sms.core.tasks import run_planned_activity
    from tests.factories import PlannedActivityFactory

    with context.tenant_context(tenant_a, personas["admin"]):
        act = PlannedActivityFactory(title="Supplier review", owner=personas["process_owner"])
    with django_capture_on_commit_callbacks(execute=True):
        assert run_planned_activity(act.pk, tenant_id=tenant_a.pk) == "reminded"
    with context.tenant_context(tenant_a):
        row = OutboundMessage.objects.get(topic="planned_activity")
    assert row.recipient == "acme-process_owner@example.test" and row.status == "sent"
    assert mail.outbox[0].subject.endswith("Supplier review")


def test_messages_written_while_held_are_not_sent_until_retried(personas, tenant_a, django_capture_on_commit_callbacks):
    """Seeding demo data holds its notices: they show in the outbox and nobody is mailed."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks, outbox.held():
        messages = queue(tenant_a, personas["agent"], "held@example.test")
    assert callbacks == [] and mail.outbox == []
    with context.tenant_context(tenant_a):
        assert OutboundMessage.objects.get(pk=messages[0].pk).status == MessageStatus.HELD
        assert outbox.send_due() == {"sent": 0, "queued": 0, "failed": 0, "skipped": 0}  # the sweep leaves it
    with context.tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=True):
        outbox.retry(messages[0])  # a person may still send it
    assert [m.to[0] for m in mail.outbox] == ["held@example.test"]
    # Outside the block, messages are queued and sent as usual.
    with django_capture_on_commit_callbacks(execute=True):
        queue(tenant_a, personas["agent"], "after@example.test")
    assert len(mail.outbox) == 2
