"""Version counters for per-process caches of reference data (see pingan/core/refcache.py)."""

from django.db import models


class RefVersion(models.Model):
    """One counter per cached data set ("orgs", "grids", "categories", "tokens", …).

    Every process keeps the data set in memory and reloads it when the counter moves; all
    counters are read together in one query, at most once per REFCACHE_CHECK_SECONDS.
    """

    name = models.CharField(max_length=32, primary_key=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "缓存版本"
        verbose_name_plural = "缓存版本"

    def __str__(self):
        return f"{self.name} v{self.version}"


class IdempotentRequest(models.Model):
    """A write that carried an `Idempotency-Key` header, and the answer it got.

    Stored in the same transaction as the write itself (core/idempotency.py), so either both
    are saved or neither: a phone that sends the write again — a retry after a lost answer, or
    its offline queue replaying after a crash — gets the stored answer and no second effect.
    """

    # Whose key it is: "u:<user id>" for an account (whatever token or session it used),
    # "a:<address>" for an anonymous sender.
    owner = models.CharField(max_length=64)
    key = models.CharField(max_length=100)
    # SHA-256 of method, path, query and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "幂等请求"
        verbose_name_plural = "幂等请求"
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotent_owner_key")
        ]

    def __str__(self):
        return f"{self.owner} {self.key} → {self.status}"
