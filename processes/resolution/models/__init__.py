from .config import Category, PriorityLevel, PriorityMatrixCell, ResolutionSettings, ServiceCalendar, ServiceHours
from .incidents import Incident

__all__ = [
    "Category",
    "Incident",
    "PriorityLevel",
    "PriorityMatrixCell",
    "ResolutionSettings",
    "ServiceCalendar",
    "ServiceHours",
]
