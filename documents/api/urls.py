from sms.core.api.router import router

from .views import (
    AcknowledgementViewSet,
    ApprovalRuleViewSet,
    DistributionEntryViewSet,
    DocumentVersionViewSet,
    DocumentViewSet,
)

router.register("documents", DocumentViewSet, basename="document")
router.register("document-versions", DocumentVersionViewSet, basename="documentversion")
router.register("document-distribution", DistributionEntryViewSet, basename="documentdistribution")
router.register("document-acknowledgements", AcknowledgementViewSet, basename="documentacknowledgement")
router.register("document-approval-rules", ApprovalRuleViewSet, basename="documentapprovalrule")
