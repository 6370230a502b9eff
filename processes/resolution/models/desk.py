"""Who works in which support group: the service desk console's "my groups" queue and
the groups a member may pick up work for."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sms.core.models import TrackedModel


class GroupMember(TrackedModel):
    """A member of the tenant working in an internal support group (a party of type
    internal group). Incidents assigned to the group show in the member's console."""

    group = models.ForeignKey(
        "parties.Party",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"party_type": "internal_group"},
        help_text="An internal group of the service provider.",
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "support group member"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group", "user"], name="resolution_grpmember_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="resolution_grpmember_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"
