from .changes import Change, ChangeApproval
from .policy import ApprovalRule, ChangePolicy, StandardChangeTemplate

__all__ = ["ApprovalRule", "Change", "ChangeApproval", "ChangePolicy", "StandardChangeTemplate"]
