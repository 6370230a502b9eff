from .config import Category, PriorityLevel, PriorityMatrixCell, ResolutionSettings, ServiceCalendar, ServiceHours
from .desk import GroupMember
from .escalation import Escalation, EscalationRule
from .incidents import Incident
from .major import MajorIncidentDefinition, MajorIncidentReview
from .problems import KnownError, Problem, ProblemReview
from .requests import CatalogueItem, FulfilmentTask, RequestDecision, ServiceRequest

__all__ = [
    "CatalogueItem",
    "FulfilmentTask",
    "RequestDecision",
    "ServiceRequest",
    "Category",
    "GroupMember",
    "Escalation",
    "EscalationRule",
    "Incident",
    "MajorIncidentDefinition",
    "MajorIncidentReview",
    "KnownError",
    "PriorityLevel",
    "PriorityMatrixCell",
    "Problem",
    "ProblemReview",
    "ResolutionSettings",
    "ServiceCalendar",
    "ServiceHours",
]
