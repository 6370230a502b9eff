"""Browser URLs of escalation and major incidents (mounted under /t/<tenant-slug>/)."""

from django.urls import path

from . import views_escalation as v

urlpatterns = [
    path("resolution/escalation-rules/", v.EscalationRuleListView.as_view(), name="resolution-escalation-rules"),
    path(
        "resolution/escalation-rules/new/",
        v.EscalationRuleCreateView.as_view(),
        name="resolution-escalation-rule-create",
    ),
    path(
        "resolution/escalation-rules/<int:pk>/",
        v.EscalationRuleUpdateView.as_view(),
        name="resolution-escalation-rule-update",
    ),
    path(
        "resolution/escalation-rules/<int:pk>/delete/",
        v.EscalationRuleDeleteView.as_view(),
        name="resolution-escalation-rule-delete",
    ),
    path(
        "resolution/major-incident-definition/",
        v.MajorIncidentDefinitionView.as_view(),
        name="resolution-major-definition",
    ),
    path("major-incidents/", v.MajorIncidentListView.as_view(), name="resolution-major-incidents"),
    path("incidents/<int:pk>/declare-major/", v.DeclareMajorView.as_view(), name="resolution-declare-major"),
    path("incidents/<int:pk>/major-manager/", v.MajorManagerView.as_view(), name="resolution-major-manager"),
    path("incidents/<int:pk>/major-review/", v.MajorReviewView.as_view(), name="resolution-major-review"),
]
