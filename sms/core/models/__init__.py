from .base import Record, ReferenceCounter, TenantManager, TenantModel, TrackedModel, UnscopedManager
from .collab import Attachment, JournalEntry, LinkType, RecordLink, Visibility, Watcher
from .feeds import FeedToken
from .idempotency import IdempotencyKey
from .outbox import MessageStatus, OutboundMessage
from .planned import IntervalUnit, PlannedActivity, add_interval

__all__ = [
    "Attachment", "IdempotencyKey", "IntervalUnit", "JournalEntry", "LinkType", "PlannedActivity", "Record",
    "FeedToken", "MessageStatus", "OutboundMessage",
    "RecordLink", "ReferenceCounter", "TenantManager", "TenantModel", "TrackedModel", "UnscopedManager",
    "Visibility", "Watcher", "add_interval",
]
