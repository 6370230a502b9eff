from .changes import Change, ChangeApproval
from .policy import ApprovalRule, BlackoutWindow, ChangePolicy, StandardChangeTemplate
from .releases import AcceptanceCriterion, Release, ReleasePolicy
from .review import ChangeTrendReport

__all__ = [
    "ApprovalRule",
    "BlackoutWindow",
    "Change",
    "ChangeApproval",
    "ChangePolicy",
    "ChangeTrendReport",
    "StandardChangeTemplate",
]
__all__ += ["AcceptanceCriterion", "Release", "ReleasePolicy"]
