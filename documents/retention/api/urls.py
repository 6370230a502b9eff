from sms.core.api.router import router

from .views import DisposalRunViewSet, LegalHoldViewSet, RetentionRuleViewSet, TombstoneViewSet

router.register("retention-rules", RetentionRuleViewSet, basename="retentionrule")
router.register("legal-holds", LegalHoldViewSet, basename="legalhold")
router.register("disposal-runs", DisposalRunViewSet, basename="disposalrun")
router.register("tombstones", TombstoneViewSet, basename="tombstone")
