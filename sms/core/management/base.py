"""Base for management commands that work inside one tenant (``--tenant <slug>``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sms.tenancy import context
from sms.tenancy.models import Tenant


class TenantCommand(BaseCommand):
    """Subclasses define ``handle_tenant(tenant, **options)``; it runs in the tenant's
    context, acting as the system user, so every history row the command writes names
    who did it and why."""

    change_reason = ""

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to work in.")

    def handle(self, *args, tenant: str, **options):
        from sms.core.tasks import system_user

        obj = Tenant.objects.filter(slug=tenant).first()
        if obj is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        with context.tenant_context(obj, system_user()):
            return self.handle_tenant(obj, *args, **options)
