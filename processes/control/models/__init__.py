from .changes import Change, ChangeApproval
from .policy import ApprovalRule, BlackoutWindow, ChangePolicy, StandardChangeTemplate

__all__ = ["ApprovalRule", "BlackoutWindow", "Change", "ChangeApproval", "ChangePolicy", "StandardChangeTemplate"]
