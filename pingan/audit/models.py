"""The append-only audit log: who looked at or changed what, when, from where, and how it went.

Every entry is a link of one chain (pingan/audit/chain.py): it stores its sequence number, the
previous entry's MAC and its own MAC, an HMAC-SM3 over its fields and that previous MAC, under
the key named by `key_id`. Editing, removing, inserting or reordering an entry breaks the chain
where it happened, and `manage.py audit_verify` names that link. The ORM refuses changes; on
PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE too (migration 0002), except the one
sanctioned deletion: `manage.py audit_archive`, of entries past the retention that a checkpoint
says were archived and verified.
"""

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    """The vocabulary of the log. `record()` accepts other names too (the accounts app announces
    a few of its own); these are the ones pages and searches know by their Chinese label."""

    # sign-in and accounts (announced by pingan.accounts, recorded by pingan.audit.receivers)
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    ACCOUNT_LOCKED = "account_locked", "账号锁定"
    ADDRESS_LOCKED = "address_locked", "地址锁定"
    UNLOCKED = "unlocked", "解除锁定"
    LOGOUT = "logout", "退出登录"
    PASSWORD_CHANGED = "password_changed", "修改密码"
    PASSWORD_RESET = "password_reset", "管理员重置密码"
    TOKEN_ISSUED = "token_issued", "签发令牌"
    TOKEN_REVOKED = "token_revoked", "吊销令牌"
    TOTP_ENROLLED = "totp_enrolled", "绑定动态口令"
    TOTP_RESET = "totp_reset", "重置动态口令"
    RECOVERY_CODE_USED = "recovery_code_used", "使用恢复码"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", "重新生成恢复码"
    ROLE_CHANGED = "role_changed", "角色变更"
    PERMISSION_CHANGED = "permission_changed", "权限变更"
    ACCOUNT_CREATED = "account_created", "创建账号"
    ACCOUNT_CHANGED = "account_changed", "修改账号"
    # personal data and exports
    VIEW_PERSONAL_DATA = "view_personal_data", "查看个人信息"
    VIEW_PARTY_DATA = "view_party_data", "查看当事人信息"  # the name used before issue 11
    EXPORT = "export", "导出数据"
    # administration
    ADMIN_CHANGE = "admin_change", "后台修改"
    CONFIG_CHANGE = "config_change", "配置变更"
    SUPERUSER_ACTION = "superuser_action", "超级用户操作"
    # the audit itself
    AUDIT_VIEWED = "audit_viewed", "查阅审计日志"
    AUDIT_EXPORTED = "audit_exported", "导出审计日志"
    AUDIT_ARCHIVED = "audit_archived", "归档审计日志"


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "被拒绝"
    FAILED = "failed", "失败"


class AuditQuerySet(models.QuerySet):
    """Bulk changes skip Model.save/delete, so the queryset refuses them as well."""

    def update(self, **kwargs):
        raise ValueError("audit entries are append-only")

    def delete(self):
        raise ValueError("audit entries are append-only")


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{self._meta.label} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self._meta.label} rows are append-only")


class AuditEntry(AppendOnly):
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
    action = models.CharField("操作", max_length=48, db_index=True, choices=Action.choices)
    object_type = models.CharField("对象类型", max_length=48)
    object_ref = models.CharField("对象", max_length=64, db_index=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    outcome = models.CharField(
        "结果", max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    # The chain (pingan/audit/chain.py).
    seq = models.BigIntegerField("序号", unique=True)
    key_id = models.CharField("密钥标识", max_length=16)
    prev_mac = models.CharField("前一条校验值", max_length=64)
    mac = models.CharField("校验值", max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-seq"]
        indexes = [models.Index(fields=["actor", "-seq"], name="audit_actor_seq")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_ref}"


class ChainHead(models.Model):
    """One row: the last link of the chain. Writers lock it (SELECT … FOR UPDATE) so that
    concurrent inserts queue and each takes the next number and the MAC before it. On PostgreSQL
    it can only move forward one entry at a time (a trigger), so the tail cannot be cut off
    without the head saying so."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self):
        return f"{self.seq} {self.mac}"


class Checkpoint(AppendOnly):
    """An archive run: entries `first_seq`…`through_seq` were written to `file`, read back and
    verified, then deleted. Verification continues from `through_mac`."""

    created_at = models.DateTimeField("时间")
    first_seq = models.BigIntegerField("起始序号")
    through_seq = models.BigIntegerField("截止序号", unique=True)
    prev_mac = models.CharField("起始前校验值", max_length=64)
    through_mac = models.CharField("截止校验值", max_length=64)
    through_at = models.DateTimeField("截止记录时间")
    entries = models.PositiveIntegerField("条数")
    file = models.CharField("归档文件", max_length=255)
    sha256 = models.CharField("文件 SHA-256", max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计归档点"
        verbose_name_plural = "审计归档点"
        ordering = ["-through_seq"]

    def __str__(self):
        return f"{self.first_seq}-{self.through_seq} {self.file}"
