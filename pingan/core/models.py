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
