import django_filters
from django.db.models import Q

from sms.core.api.serializers import tenant_members
from sms.core.filters import FilterSet, RecordFilterSet

from .choices import PRIORITY_LEVELS, SCALE_LEVELS, Channel, Impact, IncidentState, Urgency, scale_label
from .models import Category, Incident, PriorityLevel, PriorityMatrixCell, ServiceCalendar, ServiceHours
from .models.config import current_scale_size

PRIORITY_CHOICES = [(n, f"P{n}") for n in PRIORITY_LEVELS]


def _services(request):
    from sms.cmdb.models import Service

    return Service.objects.order_by("title")


def _groups(request):
    from sms.parties.models import Party

    return Party.objects.filter(party_type="internal_group").order_by("name")


def _categories(request):
    return Category.objects.select_related("parent__parent").order_by("name")


class IncidentFilterSet(RecordFilterSet):
    # No DISTINCT: a plain column filter cannot repeat rows, and DISTINCT over every column
    # (and the page count over it) is what makes a list slow on a million incidents.
    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=PRIORITY_CHOICES, distinct=False)
    impact = django_filters.ChoiceFilter(choices=Impact.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    service = django_filters.ModelChoiceFilter(queryset=_services, empty_label="Any service")
    category = django_filters.ModelChoiceFilter(queryset=_categories, empty_label="Any category")
    assignment_group = django_filters.ModelChoiceFilter(queryset=_groups, empty_label="Any group")
    assignee = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")
    is_security = django_filters.BooleanFilter(label="Information security")
    breached = django_filters.BooleanFilter(method="filter_breached", label="Target breached")
    is_major = django_filters.BooleanFilter(label="Major incident")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The tenant's labels; the values stay 1 to 5, as records may keep a former scale's level.
        # Set on this instance's built field: the class's filter may already hold a field built
        # with the plain choices (the OpenAPI schema builds them), which a copy would keep.
        size = current_scale_size()
        for name in ("impact", "urgency"):
            self.filters[name].field.choices = [(n, scale_label(name, n, size)) for n in SCALE_LEVELS]

    class Meta:
        model = Incident
        fields = [
            "q",
            "state",
            "priority",
            "impact",
            "urgency",
            "channel",
            "service",
            "category",
            "assignment_group",
            "assignee",
            "unassigned",
            "is_security",
            "breached",
            "is_major",
            "owner",
        ]

    def filter_breached(self, queryset, name, value):
        breached = Q(response_breached=True) | Q(resolution_breached=True)
        return queryset.filter(breached) if value else queryset.exclude(breached)


class PriorityLevelFilterSet(FilterSet):
    level = django_filters.ChoiceFilter(choices=PRIORITY_CHOICES)

    class Meta:
        model = PriorityLevel
        fields = ["level"]


class PriorityMatrixCellFilterSet(FilterSet):
    impact = django_filters.ChoiceFilter(choices=Impact.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    priority = django_filters.ChoiceFilter(choices=PRIORITY_CHOICES)

    class Meta:
        model = PriorityMatrixCell
        fields = ["impact", "urgency", "priority"]


class ServiceCalendarFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    is_24x7 = django_filters.BooleanFilter()

    class Meta:
        model = ServiceCalendar
        fields = ["name", "is_24x7"]


class ServiceHoursFilterSet(FilterSet):
    service = django_filters.ModelChoiceFilter(queryset=_services)
    calendar = django_filters.ModelChoiceFilter(queryset=lambda request: ServiceCalendar.objects.all())

    class Meta:
        model = ServiceHours
        fields = ["service", "calendar"]


class CategoryFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    parent = django_filters.ModelChoiceFilter(queryset=_categories)
    top_level = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Top level")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Category
        fields = ["name", "parent", "top_level", "is_active"]
