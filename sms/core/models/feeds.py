"""Secret addresses of read-only calendar feeds.

A calendar application polls a feed without a browser session and cannot sign in, so
the feed's address carries a secret key. The key acts as one membership, so in one
tenant and with that member's rights (checked on every fetch), and only opens feeds,
which are read-only. Only its SHA-256 digest is stored; the address is shown once.
Making a new one replaces the old (which stops working at once); deleting it revokes it.
Like ``tenancy.ApiToken`` the table has no tenant column: the key is looked up before
any tenant is known, and grants nothing without its membership, which RLS protects.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models, transaction


class FeedToken(models.Model):
    membership = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="feed_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to tell keys apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "calendar feed key"
        constraints = [
            models.UniqueConstraint(fields=["membership"], name="core_feedtoken_one_per_membership"),
        ]

    def __str__(self) -> str:
        return f"Feed key {self.prefix}… of {self.user}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    @transaction.atomic
    def issue(cls, membership) -> tuple[FeedToken, str]:
        """A new key for ``membership``; any previous key stops working."""
        cls.objects.filter(membership=membership).delete()
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            membership=membership, user_id=membership.user_id, digest=cls.hash_key(key), prefix=key[:8]
        )
        return token, key

    @classmethod
    def revoke(cls, membership) -> bool:
        return cls.objects.filter(membership=membership).delete()[0] > 0

    @classmethod
    def lookup(cls, key: str) -> FeedToken | None:
        if not key or len(key) > 100:
            return None
        return cls.objects.select_related("user").filter(digest=cls.hash_key(key)).first()
