"""Default managers fail closed without a tenant; the unscoped manager is the only way round."""

import pytest

from governance.models import Improvement
from sms.core.models import PlannedActivity
from sms.tenancy import context
from sms.tenancy.context import NoTenantError
from sms.tenancy.models import Membership
from tests.factories import ImprovementFactory


@pytest.mark.parametrize("model", [Improvement, PlannedActivity, Membership])
def test_default_manager_raises_without_tenant(db, model):
    with pytest.raises(NoTenantError):
        list(model.objects.all())


def test_default_manager_filters_by_current_tenant(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        mine = ImprovementFactory()
        assert list(Improvement.objects.values_list("pk", flat=True)) == [mine.pk]
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        assert not Improvement.objects.exists()


def test_unscoped_manager_does_not_raise_and_rls_still_applies(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        ImprovementFactory()
    # No tenant: the unscoped manager runs, and the database returns nothing.
    assert Improvement.unscoped.count() == 0
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        assert Improvement.unscoped.count() == 0
    with context.tenant_context(tenant_a, personas["admin"]):
        assert Improvement.unscoped.count() == 1


def test_saving_into_another_tenant_is_refused(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        obj = ImprovementFactory()
    with context.tenant_context(tenant_b, personas["outsider_admin"]), pytest.raises(NoTenantError):
        obj.title = "moved"
        obj.save()


def test_creating_without_tenant_is_refused(db):
    with pytest.raises(NoTenantError):
        Improvement(title="orphan").save()
