import django_filters

from sms.tenancy.models import Membership
from sms.tenancy.roles import Role


class MembershipFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()
    role = django_filters.ChoiceFilter(choices=Role.choices, method="with_role")

    class Meta:
        model = Membership
        fields = ["is_active", "role"]

    def with_role(self, queryset, name, value):
        return queryset.filter(roles__contains=[value])
