from sms.core.api.router import router

from .views import (
    CategoryViewSet,
    IncidentViewSet,
    PriorityLevelViewSet,
    PriorityMatrixViewSet,
    ResolutionSettingsViewSet,
    ServiceCalendarViewSet,
    ServiceHoursViewSet,
)

router.register("incidents", IncidentViewSet, basename="incident")
router.register("incident-categories", CategoryViewSet, basename="incidentcategory")
router.register("priority-levels", PriorityLevelViewSet, basename="prioritylevel")
router.register("priority-matrix", PriorityMatrixViewSet, basename="prioritymatrixcell")
router.register("service-calendars", ServiceCalendarViewSet, basename="servicecalendar")
router.register("service-hours", ServiceHoursViewSet, basename="servicehours")
router.register("resolution-settings", ResolutionSettingsViewSet, basename="resolutionsettings")

# Service desk console (8.1): support group members; the queues and bulk assignment are incident actions.
from .views_desk import GroupMemberViewSet  # noqa: E402

router.register("support-group-members", GroupMemberViewSet, basename="groupmember")

# Escalation and major incidents (8.1).
from .escalation import (  # noqa: E402
    EscalationRuleViewSet,
    EscalationViewSet,
    MajorIncidentDefinitionViewSet,
    MajorIncidentReviewViewSet,
)

router.register("escalation-rules", EscalationRuleViewSet, basename="escalationrule")
router.register("incident-escalations", EscalationViewSet, basename="escalation")
router.register("major-incident-definition", MajorIncidentDefinitionViewSet, basename="majorincidentdefinition")
router.register("major-incident-reviews", MajorIncidentReviewViewSet, basename="majorincidentreview")


# Problems, known errors and trend analysis (8.2).
from .problems import KnownErrorViewSet, ProblemViewSet  # noqa: E402

router.register("problems", ProblemViewSet, basename="problem")
router.register("known-errors", KnownErrorViewSet, basename="knownerror")

# Service requests (8.1).
from .views_requests import CatalogueItemViewSet, FulfilmentTaskViewSet, ServiceRequestViewSet  # noqa: E402

router.register("service-requests", ServiceRequestViewSet, basename="request")
router.register("catalogue-items", CatalogueItemViewSet, basename="catalogueitem")
router.register("fulfilment-tasks", FulfilmentTaskViewSet, basename="fulfilmenttask")
