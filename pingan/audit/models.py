"""The append-only audit log: who looked at or changed what, when and from where."""

from django.conf import settings
from django.db import models


class AuditQuerySet(models.QuerySet):
    """Bulk changes skip Model.save/delete, so the queryset refuses them as well."""

    def update(self, **kwargs):
        raise ValueError("audit entries are append-only")

    def delete(self):
        raise ValueError("audit entries are append-only")


class AuditEntry(models.Model):
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept as text too: the log must still say who it was if the account is renamed.
    actor_label = models.CharField("操作人姓名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=48, db_index=True)
    object_type = models.CharField("对象类型", max_length=48)
    object_ref = models.CharField("对象", max_length=64, db_index=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_ref}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")
