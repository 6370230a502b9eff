"""RecordForm: forms with relations to tenant models can be declared at import time
(no tenant yet) and offer only the current tenant's rows."""

import pytest

from documents.retention.models import DisposalItem, RetentionRule
from sms.core.views.records import RecordForm


class ItemForm(RecordForm):  # declared at import: no tenant context exists here
    class Meta:
        model = DisposalItem
        fields = ["rule", "reference"]


pytestmark = pytest.mark.django_db


def test_relation_choices_come_from_the_current_tenant_only(personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        mine = RetentionRule.objects.create(record_kind="improvement", retain_months=12)
    with in_tenant(tenant_b, personas["outsider_admin"]):
        theirs = RetentionRule.objects.create(record_kind="improvement", retain_months=24)
    with in_tenant(tenant_a, personas["admin"]):
        form = ItemForm()
        assert list(form.fields["rule"].queryset) == [mine]
        bad = ItemForm(data={"rule": theirs.pk, "reference": "IMP-1"})
        assert not bad.is_valid() and "rule" in bad.errors
