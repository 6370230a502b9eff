from sms.core.api.router import router

from .views import (
    BaselineViewSet,
    CITypeViewSet,
    CMDBAuditViewSet,
    ConfigurationItemViewSet,
    RelationshipViewSet,
    ServiceViewSet,
)

router.register("ci-types", CITypeViewSet, basename="citype")
router.register("cis", ConfigurationItemViewSet, basename="ci")
router.register("relationships", RelationshipViewSet, basename="relationship")
router.register("services", ServiceViewSet, basename="service")
router.register("baselines", BaselineViewSet, basename="baseline")
router.register("cmdb-audits", CMDBAuditViewSet, basename="cmdbaudit")
