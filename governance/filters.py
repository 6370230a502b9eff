import django_filters

from sms.core.filters import DATE, RecordFilterSet

from .choices import ImprovementSource, ImprovementState, ImprovementType, Priority
from .models import Improvement


class ImprovementFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ImprovementState.choices)
    improvement_type = django_filters.ChoiceFilter(choices=ImprovementType.choices, label="Type")
    source = django_filters.ChoiceFilter(choices=ImprovementSource.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label="Due on or before", widget=DATE
    )

    class Meta:
        model = Improvement
        fields = ["q", "state", "improvement_type", "source", "priority", "owner", "due_before"]
