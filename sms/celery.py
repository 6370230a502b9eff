"""Celery application. Tasks that touch tenant data take ``tenant_id`` explicitly and
run through ``sms.core.tasks.TenantTask``, which sets the tenant and acting user."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms.settings")

app = Celery("sms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
