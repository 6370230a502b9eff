from sms.core.management.base import TenantCommand
from sms.core.tasks import claim_due_activities


class Command(TenantCommand):
    help = "Claim and queue the tenant's planned activities that are due now (what beat does each minute)."

    def handle_tenant(self, tenant, **options):
        claimed = claim_due_activities(tenant)
        self.stdout.write(f"{len(claimed)} planned activit{'y' if len(claimed) == 1 else 'ies'} dispatched.")
