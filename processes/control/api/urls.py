from sms.core.api.router import router

from .views import (
    ApprovalRuleViewSet,
    ChangeApprovalViewSet,
    ChangePolicyViewSet,
    ChangeViewSet,
    StandardChangeTemplateViewSet,
)

router.register("changes", ChangeViewSet, basename="change")
router.register("change-approvals", ChangeApprovalViewSet, basename="changeapproval")
router.register("change-policy", ChangePolicyViewSet, basename="changepolicy")
router.register("change-templates", StandardChangeTemplateViewSet, basename="changetemplate")
router.register("change-approval-rules", ApprovalRuleViewSet, basename="approvalrule")
