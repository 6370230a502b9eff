"""Browser pages of the management system (clause 4)."""

from __future__ import annotations

from django import forms

from sms.core.views.records import (
    Column,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
)

from .filters import ImprovementFilterSet
from .models import Improvement


class ImprovementForm(RecordForm):
    class Meta:
        model = Improvement
        fields = [
            "title",
            "description",
            "improvement_type",
            "source",
            "priority",
            "dimension",
            "target",
            "owner",
            "due_date",
            "result",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "target": forms.Textarea(attrs={"rows": 3}),
            "result": forms.Textarea(attrs={"rows": 3}),
        }


class ImprovementListView(RecordListView):
    model = Improvement
    filterset_class = ImprovementFilterSet
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("improvement_type", "Type", sort="improvement_type"),
        Column("priority", "Priority", sort="priority"),
        Column("owner", "Owner"),
        Column("due_date", "Due", sort="due_date"),
    )
    empty_text = "No improvements recorded. Raise one when an audit, a review, a complaint or a trend shows a gap."


class ImprovementDetailView(RecordDetailView):
    model = Improvement
    select_related = ("owner", "created_by", "updated_by", "decided_by")
    detail_fields = (
        "improvement_type",
        "source",
        "priority",
        "dimension",
        "target",
        "due_date",
        "result",
        "decided_by",
        "decided_at",
        "decision_rationale",
    )


class ImprovementCreateView(RecordCreateView):
    model = Improvement
    form_class = ImprovementForm


class ImprovementUpdateView(RecordUpdateView):
    model = Improvement
    form_class = ImprovementForm
