from .audits import AuditedCI, CMDBAudit
from .baselines import Baseline, ImmutableError
from .catalogue import Service, ServiceComponent, ServiceCustomer, ServiceDependency
from .items import ConfigurationItem, Relationship
from .types import CIType

__all__ = [
    "AuditedCI",
    "CMDBAudit",
    "Baseline",
    "CIType",
    "ConfigurationItem",
    "ImmutableError",
    "Relationship",
    "Service",
    "ServiceComponent",
    "ServiceCustomer",
    "ServiceDependency",
]
