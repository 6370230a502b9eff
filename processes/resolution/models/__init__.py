from .config import Category, PriorityLevel, PriorityMatrixCell, ResolutionSettings, ServiceCalendar, ServiceHours
from .desk import GroupMember
from .incidents import Incident
from .problems import KnownError, Problem, ProblemReview

__all__ = [
    "Category",
    "GroupMember",
    "Incident",
    "KnownError",
    "PriorityLevel",
    "PriorityMatrixCell",
    "Problem",
    "ProblemReview",
    "ResolutionSettings",
    "ServiceCalendar",
    "ServiceHours",
]
