from sms.core.api.views import RecordViewSet

from ..filters import ImprovementFilterSet
from ..models import Improvement
from .serializers import ImprovementSerializer


class ImprovementViewSet(RecordViewSet):
    """Improvement register (clause 4.5.5): opportunities, corrective and preventive actions."""

    queryset = Improvement.unscoped.none()
    serializer_class = ImprovementSerializer
    filterset_class = ImprovementFilterSet
    capability_area = "improvement"
    select_related = ("owner", "created_by", "updated_by", "decided_by")
    ordering_fields = ["number", "priority", "due_date", "created_at", "updated_at"]
