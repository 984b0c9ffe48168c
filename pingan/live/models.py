"""The outbox for pushes that have no timeline table of their own (volunteer task news, shop
orders). Incident and dispute pushes need no row here: their append-only timelines already are
the durable log the fan-out reads (pingan/live/fanout.py)."""

from django.db import models


class LivePush(models.Model):
    """One message for a set of groups, written in the transaction that caused it, read by the
    fan-out after commit. Pruned after a day: a page that was offline longer reloads anyway."""

    at = models.DateTimeField(db_index=True)
    groups = models.JSONField()
    body = models.JSONField()

    class Meta:
        ordering = ["id"]
        verbose_name = "推送消息"
        verbose_name_plural = "推送消息"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} → {', '.join(self.groups)}"
