"""Users, roles and API tokens."""

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    COMMANDER = "commander", "指挥员"
    OFFICER = "officer", "民警"
    AUXILIARY = "auxiliary", "辅警"
    GRID_WORKER = "grid_worker", "网格员"
    VOLUNTEER = "volunteer", "义警"
    CITIZEN = "citizen", "群众"
    # A rewards-shop clerk (爱心超市 / partner store): verifies redemption orders at their shop.
    CLERK = "clerk", "店员"
    # 三员分立 (GB/T 22239-2019 level 3): three administrators, none able to do another's job.
    # The system administrator keeps the platform running (org tree, grids, categories, accounts'
    # ordinary fields); the security administrator grants roles, permissions and unlocks, resets
    # second factors; the audit administrator reads and exports the audit log, and nothing else.
    SYSTEM_ADMIN = "sysadmin", "系统管理员"
    SECURITY_ADMIN = "secadmin", "安全管理员"
    AUDIT_ADMIN = "auditadmin", "审计管理员"


STAFF_ROLES = frozenset({Role.COMMANDER, Role.OFFICER, Role.AUXILIARY, Role.GRID_WORKER})
UNIT_ROLES = frozenset({Role.OFFICER, Role.AUXILIARY})
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.CITIZEN)
    display_name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True, help_text="E.164")
    # Staff belong to an org unit; citizens and volunteers may not.
    org = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_commander(self) -> bool:
        return self.role == Role.COMMANDER or self.is_superuser

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the phone apps. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self):
        return f"{self.user} 的令牌（至 {self.expires_at:%Y-%m-%d}）"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
