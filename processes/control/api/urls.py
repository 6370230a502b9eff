from sms.core.api.router import router

from .views import (
    ApprovalRuleViewSet,
    BlackoutWindowViewSet,
    ChangeApprovalViewSet,
    ChangePolicyViewSet,
    ChangeViewSet,
    StandardChangeTemplateViewSet,
)
from .views_review import ChangeTrendReportViewSet

router.register("changes", ChangeViewSet, basename="change")
router.register("change-approvals", ChangeApprovalViewSet, basename="changeapproval")
router.register("change-policy", ChangePolicyViewSet, basename="changepolicy")
router.register("change-templates", StandardChangeTemplateViewSet, basename="changetemplate")
router.register("change-approval-rules", ApprovalRuleViewSet, basename="approvalrule")
router.register("change-blackouts", BlackoutWindowViewSet, basename="blackoutwindow")
router.register("change-trend-reports", ChangeTrendReportViewSet, basename="changetrendreport")

from .views_releases import AcceptanceCriterionViewSet, ReleasePolicyViewSet, ReleaseViewSet  # noqa: E402

router.register("releases", ReleaseViewSet, basename="release")
router.register("release-criteria", AcceptanceCriterionViewSet, basename="acceptancecriterion")
router.register("release-policies", ReleasePolicyViewSet, basename="releasepolicy")
